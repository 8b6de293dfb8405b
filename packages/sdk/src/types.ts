import type { Mode } from "./schemas.ts";

/** Known web UI variants (see `internal/variants.ts` for their parameter tables). */
export type VariantName = "official" | "cv3-en";
/** The model family loaded in the UI; not visible in `/info`, so the caller states it. */
export type ModelFamily = "cosyvoice3" | "cosyvoice2" | "cosyvoice1";

/** What `connect` found at the URL. */
export interface BackendInfo {
  variant: VariantName;
  /** Gradio version reported by `/config`. */
  gradioVersion: string;
  model: ModelFamily;
  /** Output sample rate the model family produces. @unit hertz */
  sampleRate?: number;
  /** Modes this variant+model can do. */
  modes: Mode[];
  /** Built-in speakers ([] when the UI has none). */
  speakers: string[];
}

/**
 * Where the SDK logs (debug detail, model-hint mismatches). Shaped so that a pino logger fits.
 * @default no logging
 */
export interface Logger {
  debug?(obj: Record<string, unknown>, msg?: string): void;
  info?(obj: Record<string, unknown>, msg?: string): void;
  warn?(obj: Record<string, unknown>, msg?: string): void;
  error?(obj: Record<string, unknown>, msg?: string): void;
}

/** Options of {@link CosyVoice.connect}. */
export interface ClientOptions {
  /** Model family loaded in the UI. @default "cosyvoice3" */
  model?: ModelFamily;
  /** Default deadline of each call, queue wait included. @default 60_000 @unit milliseconds */
  timeoutMs?: number;
  /** Retries where nothing was accepted yet (connection refused, queue full). 0 turns retry off. @default 2 */
  maxRetries?: number;
  /** Deadline of `connect` itself. @default 10_000 @unit milliseconds */
  connectTimeoutMs?: number;
  /** Extra headers for every request to the UI (e.g. a reverse proxy's auth). */
  headers?: Record<string, string>;
  /** Injected fetch (tests, proxies); every request to the UI goes through it. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Where the SDK logs. @default no logging */
  logger?: Logger;
  /**
   * A remembered prompt upload is reused without asking the server for this long; after that it
   * is checked (HEAD) and uploaded again if the server lost it. @default 60_000 @unit milliseconds
   */
  uploadVerifyAfterMs?: number;
}

/** Progress reported while a job waits and runs. */
export type Progress =
  | { stage: "queued"; position: number; queueSize: number; etaMs?: number }
  | { stage: "started" }
  | { stage: "chunk"; index: number; durationMs: number };

/** Per-call options of `synthesize` and `stream`. */
export interface RequestOptions {
  /** Aborts the call and cancels the upstream job. */
  signal?: AbortSignal;
  /** Deadline of this call. @default the client's timeoutMs @unit milliseconds */
  timeoutMs?: number;
  /** Called with queue position, then start, then each chunk. */
  onProgress?: (p: Progress) => void;
  /** Overrides the client's maxRetries for this call. */
  maxRetries?: number;
}

/** The result of `synthesize`: one complete WAV. */
export interface SynthesisResult {
  audio: Uint8Array;
  mimeType: "audio/wav";
  /** @unit hertz */
  sampleRate: number;
  /** @unit milliseconds */
  durationMs: number;
  /** Number of chunks (sentences) the model produced. */
  chunks: number;
}

/** One streamed chunk: an AAC (ADTS) segment as the UI produced it. */
export interface AudioChunk {
  index: number;
  data: Uint8Array;
  mimeType: "audio/aac";
  /** @unit milliseconds */
  durationMs: number;
}
