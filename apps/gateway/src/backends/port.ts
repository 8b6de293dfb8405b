/**
 * The backend port, in the gateway's own terms: what a box is (its kind and capabilities), and
 * a synthesis as a stream of chunks that declare their codec. Each driver (`gradio/`,
 * `cosyvoice-fastapi/`, ...) implements it; the pool and the service know nothing else of a box.
 */
import type { BackendInfo, ModelFamily, Progress, SynthesisRequest, SynthesisResult } from "cosyvoice3-sdk";
import type { Logger } from "pino";

/** The kinds of box the gateway can drive (the schemas of `/readyz` and the routes file read this list). */
export const BACKEND_KINDS = ["gradio", "cosyvoice-fastapi", "cosyvoice-grpc", "openai"] as const;

/** The kinds of box the gateway can drive. */
export type BackendKind = (typeof BACKEND_KINDS)[number];

/** What a chunk's bytes are. */
export type Codec =
  | { kind: "pcm_s16le"; sampleRate: number; channels: 1 }
  | { kind: "adts" }
  | { kind: "wav" };

/** One piece of audio as a box made it. */
export interface BackendChunk {
  /** 0, 1, 2, ... in order. */
  index: number;
  data: Uint8Array;
  codec: Codec;
  /** @unit milliseconds */
  durationMs: number;
  /** When known (PCM: always; ADTS: from its header). @unit hertz */
  sampleRate?: number;
}

/**
 * What a box is and can do. The Gradio driver fills it from the SDK's recognition of the UI;
 * the others from their kind and the configured model family. `variant` names the UI variant
 * for Gradio and the kind otherwise.
 */
export interface BoxInfo extends Omit<BackendInfo, "variant" | "gradioVersion"> {
  kind: BackendKind;
  variant: string;
  /** Gradio boxes only. */
  gradioVersion?: string;
  /** The codec of its streamed chunks. */
  codec: Codec["kind"];
  /** How instruct is given: with a built-in speaker (CosyVoice1) or with prompt audio (instruct2); absent without instruct. */
  instructNeeds?: "voice" | "promptAudio";
  /** Takes `speed` itself. */
  speed: boolean;
}

/** Per-call options of a box. */
export interface BoxCallOptions {
  /** Aborts the call; the driver ends the job on the box (cancel, or close the connection). */
  signal?: AbortSignal;
  /** @unit milliseconds */
  timeoutMs?: number;
  onProgress?: (p: Progress) => void;
}

/** The port every driver implements. */
export interface SynthesisBackend {
  /** What the box is; connects (or probes) first when needed. */
  info(): Promise<BoxInfo>;
  /** Checks now that the box answers and is of its kind (readiness). */
  probe(): Promise<BoxInfo>;
  /** Its built-in speakers ([] when it has none). */
  listVoices(): Promise<string[]>;
  /** A whole clip (WAV). */
  synthesize(request: SynthesisRequest, options?: BoxCallOptions): Promise<SynthesisResult>;
  /** Chunks as the box makes them, each declaring its codec. */
  stream(request: SynthesisRequest, options?: BoxCallOptions): AsyncIterable<BackendChunk>;
  close(): Promise<void>;
}


/** What every driver is built with, besides its URL. */
export interface DriverOptions {
  /** The model family the box runs (servers that do not say take it from here). */
  model: ModelFamily;
  /** Deadline of one call. @unit milliseconds */
  timeoutMs: number;
  /** Retries of a job the box did not accept (drivers that retry by themselves). @default 0 */
  maxRetries?: number;
  logger?: Logger;
  /** A traced fetch when tracing is on. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** The rate each model family makes audio at. @unit hertz */
export const MODEL_RATE: Record<ModelFamily, number> = { cosyvoice1: 22_050, cosyvoice2: 24_000, cosyvoice3: 24_000 };
