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
  /**
   * Output sample rate, as seen in the first clip (`synthesize`) or segment (`stream`); unset
   * before the first call. @unit hertz
   */
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
  /** Injected fetch (tests, proxies); every request to the UI (and to a prompt `{ url }`) goes through it. @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * Largest download from the UI: the whole clip (WAV), one stream segment. Counted while
   * reading (chunked answers carry no Content-Length); over it the call fails with
   * UpstreamError. @default 67_108_864 (64 MiB) @unit bytes
   */
  maxDownloadBytes?: number;
  /**
   * Largest prompt audio read from bytes, a `{ path }` or a `{ url }`, counted while reading
   * (a device or a chunked answer says nothing up front); over it: ValidationError `too_big`.
   * @default 33_554_432 (32 MiB) @unit bytes
   */
  maxPromptBytes?: number;
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
  /** One segment of the UI's HLS playlist became available (see {@link AudioChunk}). */
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
  /**
   * `stream()` only: segments fetched ahead of a slow reader before the SDK waits for it
   * (backpressure). @default 1
   */
  highWaterMark?: number;
}

/** The result of `synthesize`: one complete WAV. */
export interface SynthesisResult {
  audio: Uint8Array;
  mimeType: "audio/wav";
  /** @unit hertz */
  sampleRate: number;
  /** @unit milliseconds */
  durationMs: number;
  /**
   * Number of chunks the model produced (one per yield of the UI's generator: a sentence, or a
   * token chunk with model-side streaming), the same on every gradio version. Not the number of
   * HLS segments, which gradio 6.x cuts differently.
   */
  chunks: number;
}

/**
 * One streamed piece of audio: an AAC (ADTS) segment of the UI's HLS playlist, as gradio cut it.
 * On gradio 5.x there is one per model chunk; gradio 6.x runs one encoder per stream (a first
 * segment of one AAC frame, a flush at the end), so count segments, not sentences.
 */
export interface AudioChunk {
  /** 0, 1, 2, ... in playlist order. */
  index: number;
  data: Uint8Array;
  mimeType: "audio/aac";
  /** As the playlist states it. @unit milliseconds */
  durationMs: number;
  /** From the segment's ADTS header, when it has one. @unit hertz */
  sampleRate?: number;
}
