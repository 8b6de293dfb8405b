import {
  AbortError,
  ConnectionError,
  CosyVoiceError,
  QueueFullError,
  UnsupportedBackendError,
  UpstreamError,
  ValidationError,
  isSafeToResend,
} from "./errors.ts";
import type { SynthesisRequest } from "./schemas.ts";
import type {
  AudioChunk,
  BackendInfo,
  ClientOptions,
  Logger,
  Progress,
  RequestOptions,
  SynthesisResult,
} from "./types.ts";
import { adtsSampleRate } from "./internal/adts.ts";
import { outputUrl, runJob, serverHasFile, uploadFile, type GradioContext, type OutputFile } from "./internal/gradio.ts";
import { describeApi } from "./internal/gradio-session.ts";
import { PlaylistFollower, parsePlaylist, type NewSegment } from "./internal/hls.ts";
import { buildPayload, checkRequest, promptAudioOf, type GradioFileRef } from "./internal/payload.ts";
import { MAX_PROMPT_BYTES, checkPromptAudio, readAudioInput, type PromptAudio } from "./internal/prompt-audio.ts";
import { OverCapError, readResponseCapped } from "./internal/read-capped.ts";
import { recognise, type GradioConfig, type Recognised } from "./internal/recognize.ts";
import { DEFAULT_BACKOFF, backoffDelay, sleep } from "./internal/retry.ts";
import { createScope, raceAbort, type CallScope } from "./internal/scope.ts";
import { SegmentChannel } from "./internal/segment-channel.ts";
import { UploadCache } from "./internal/upload-cache.ts";
import { MODEL_SAMPLE_RATE } from "./internal/variants.ts";

const DEFAULTS = {
  timeoutMs: 60_000,
  maxRetries: 2,
  connectTimeoutMs: 10_000,
  uploadVerifyAfterMs: 60_000,
  maxDownloadBytes: 64 * 1024 * 1024,
  maxPromptBytes: MAX_PROMPT_BYTES,
  highWaterMark: 1,
} as const;

/** Caps of what the UI sends besides audio: its JSON and playlists. @unit bytes */
const MAX_JSON_BYTES = 8 * 1024 * 1024;
const MAX_PLAYLIST_BYTES = 1024 * 1024;

const silent: Logger = {};

/** What one call wants besides the job itself. */
interface Sink {
  /** Follow the HLS playlist during the job (for chunk progress or streaming). */
  follow: boolean;
  /** Download each segment's bytes (streaming only). */
  fetchSegments: boolean;
  /** The UI's stream flag: model-side streaming (ignores speed). */
  modelStreaming: boolean;
  /** Awaited before each segment is fetched: the reader's backpressure. */
  ready?: () => Promise<void>;
  onChunk?: (chunk: AudioChunk) => void;
}

interface JobDone {
  file: OutputFile | null;
  /** The model's chunks: one `process_generating` per yield. */
  generated: number;
}

/**
 * Client of one CosyVoice web UI (the official `webui.py` or the Fun-CosyVoice3 English UI).
 * Recognises the UI at connect time, maps typed requests onto its parameters, and turns Gradio's
 * warnings, hidden errors and queue refusals into typed errors.
 *
 * @example
 * ```ts
 * const cv = await CosyVoice.connect("http://127.0.0.1:7860", { model: "cosyvoice3" });
 * const res = await cv.synthesize({ mode: "clone", text: "Hello there.", promptAudio: { path: "prompt.wav" }, promptText: "Hi, I am the prompt." });
 * await writeFile("out.wav", res.audio);
 * await cv.close();
 * ```
 */
export class CosyVoice {
  /** What `connect` found: variant, Gradio version, model, modes and speakers. */
  readonly backend: BackendInfo;
  readonly #ctx: GradioContext;
  readonly #rec: Recognised;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #maxDownloadBytes: number;
  readonly #maxPromptBytes: number;
  readonly #uploads: UploadCache;
  readonly #active = new Map<CallScope, Promise<unknown>>();
  #closed = false;
  #rateWarned = false;

  private constructor(ctx: GradioContext, rec: Recognised, options: ClientOptions) {
    this.#ctx = ctx;
    this.#rec = rec;
    this.#timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    this.#maxRetries = options.maxRetries ?? DEFAULTS.maxRetries;
    this.#maxDownloadBytes = options.maxDownloadBytes ?? DEFAULTS.maxDownloadBytes;
    this.#maxPromptBytes = options.maxPromptBytes ?? DEFAULTS.maxPromptBytes;
    this.#uploads = new UploadCache({
      verifyAfterMs: options.uploadVerifyAfterMs ?? DEFAULTS.uploadVerifyAfterMs,
      maxEntries: 256,
    });
    this.backend = {
      variant: rec.spec.name,
      gradioVersion: rec.gradioVersion,
      model: rec.model,
      modes: [...rec.modes],
      speakers: [...rec.speakers],
    };
  }

  /**
   * Connects to a CosyVoice web UI: reads `/config` and `/gradio_api/info` (once: every job
   * reuses them), recognises the variant
   * from data, and checks the stated model against the UI's hints (built-in speakers exist only
   * with CosyVoice 1 models). Refuses anything else with {@link UnsupportedBackendError}.
   *
   * @param url The UI's root URL, e.g. `http://127.0.0.1:7860`.
   * @throws UnsupportedBackendError the URL serves no CosyVoice UI the SDK knows (says what it found)
   * @throws ConnectionError the URL could not be reached (after `maxRetries` retries)
   * @throws TimeoutError `/config` or `/info` did not answer within `connectTimeoutMs`
   * @example
   * ```ts
   * const cv = await CosyVoice.connect("http://127.0.0.1:7860", { model: "cosyvoice3", timeoutMs: 60_000 });
   * console.log(cv.backend); // { variant: "official", gradioVersion: "5.4.0", model: "cosyvoice3", modes: ["clone", "crossLingual"], speakers: [] }
   * ```
   */
  static async connect(url: string, options: ClientOptions = {}): Promise<CosyVoice> {
    let base: URL;
    try {
      base = new URL(url);
    } catch (e) {
      throw new ValidationError([{ path: ["url"], code: "invalid_url", message: `not a URL: ${url}` }], { cause: e });
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new ValidationError([{ path: ["url"], code: "invalid_url", message: `the URL must be http(s), got ${base.protocol}` }]);
    }
    const baseUrl = `${base.origin}${base.pathname.replace(/\/+$/, "")}`;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    const headers = { ...(options.headers ?? {}) };
    const logger = options.logger ?? silent;
    const scope = createScope(undefined, options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs);
    try {
      const maxRetries = options.maxRetries ?? DEFAULTS.maxRetries;
      const config = await withRetries(maxRetries, scope, logger, () =>
        getJson<GradioConfig>(fetchImpl, `${baseUrl}/config`, headers, scope.signal),
      );
      const rec = recognise(config, options.model);
      const apiPrefix = config.api_prefix ?? "/gradio_api";
      const ctx: GradioContext = { baseUrl, apiPrefix, fetch: fetchImpl, headers, logger, maxEventBytes: MAX_JSON_BYTES };
      // Requests go where the caller pointed, not to the root Gradio derived from its Host header.
      ctx.state = await describeApi(ctx, config as unknown as Record<string, unknown>, scope.signal);
      logger.debug?.({ variant: rec.spec.name, model: rec.model, gradio: rec.gradioVersion }, "connected to CosyVoice web UI");
      return new CosyVoice(ctx, rec, options);
    } catch (e) {
      throw scope.reason ?? e;
    } finally {
      scope.dispose();
    }
  }

  /**
   * The UI's built-in speakers (`[]` when it has none, as with every CosyVoice2/3 model).
   * @example
   * ```ts
   * const voices = await cv.listVoices(); // e.g. ["中文女", "中文男", "英文女"] on CosyVoice-300M-SFT
   * ```
   */
  async listVoices(): Promise<string[]> {
    return [...this.#rec.speakers];
  }

  /**
   * Synthesizes one request and returns the whole clip as WAV. Validation (request shape, mode,
   * prompt audio) happens before anything is sent; the UI's warnings reject with
   * {@link UpstreamWarningError} and its silence is never returned.
   *
   * @throws ValidationError, UnsupportedModeError (nothing sent), UpstreamWarningError,
   *   UpstreamError, QueueFullError, ConnectionError, TimeoutError, AbortError
   * @example
   * ```ts
   * const res = await cv.synthesize(
   *   { mode: "crossLingual", text: "<|en|>Hello from another language.", promptAudio: { path: "prompt.wav" } },
   *   { timeoutMs: 30_000, onProgress: (p) => console.log(p) },
   * );
   * res.sampleRate; // 24000
   * ```
   */
  async synthesize(request: SynthesisRequest, options: RequestOptions = {}): Promise<SynthesisResult> {
    return this.#call(
      request,
      options,
      { follow: options.onProgress !== undefined, fetchSegments: false, modelStreaming: false },
      async (done, scope) => {
        if (!done.file) throw new UpstreamError("The CosyVoice web UI completed without audio", "no output file");
        // Only after completion: requested earlier, Gradio caches a truncated file.
        const url = outputUrl(this.#ctx, done.file, "playlist-file");
        const audio = await getBytes(this.#ctx, url, scope.signal, this.#maxDownloadBytes, "the clip");
        const { sampleRate, durationMs } = await this.#inspectWav(audio);
        return { audio, mimeType: "audio/wav", sampleRate, durationMs, chunks: done.generated };
      },
    );
  }

  /**
   * Streams the clip as the UI produces it: each AAC (ADTS) segment of the UI's HLS playlist,
   * exactly once and in order, the first one before the job completes. Breaking out of the loop
   * cancels the job. A slow reader slows the SDK down: it fetches at most
   * `options.highWaterMark` segments ahead of the reader. Segments are how gradio cuts the audio:
   * one per model chunk on gradio 5.x, re-cut by one encoder per stream on 6.x.
   *
   * @example
   * ```ts
   * for await (const chunk of cv.stream({ mode: "clone", text, promptAudio: { path: "prompt.wav" }, promptText })) {
   *   player.write(chunk.data); // chunk.mimeType === "audio/aac"
   * }
   * cv.backend.sampleRate; // 24000, known from the first segment
   * ```
   */
  async *stream(request: SynthesisRequest, options: RequestOptions = {}): AsyncGenerator<AudioChunk, void, undefined> {
    const channel = new SegmentChannel<AudioChunk>(options.highWaterMark ?? DEFAULTS.highWaterMark);
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const run = this.#call(
      request,
      { ...options, signal },
      {
        follow: true,
        fetchSegments: true,
        // Model-side streaming gives the first chunk sooner; it ignores speed, so keep it off then.
        modelStreaming: true,
        ready: () => channel.ready(),
        onChunk: (c) => channel.push(c),
      },
      async () => undefined,
    );
    run.then(
      () => channel.end(),
      (e: unknown) => channel.fail(e),
    );
    let finished = false;
    try {
      for (;;) {
        const next = await channel.next();
        if (next.done) break;
        yield next.value;
      }
      finished = true;
    } finally {
      // The consumer stopped early (break/return/throw): cancel the job and wait for the cleanup.
      if (!finished) {
        stop.abort();
        channel.cancel();
      }
      await run.catch(() => undefined);
    }
  }

  /**
   * Cancels every call in flight (they reject with {@link AbortError}) and releases the client.
   * @example
   * ```ts
   * await cv.close();
   * ```
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const scope of this.#active.keys()) scope.abort(new AbortError({ cause: new Error("the client was closed") }));
    await Promise.allSettled([...this.#active.values()]);
  }

  async #call<T>(
    request: SynthesisRequest,
    options: RequestOptions,
    sink: Sink,
    finish: (done: JobDone, scope: CallScope) => Promise<T>,
  ): Promise<T> {
    if (this.#closed) throw new AbortError({ cause: new Error("the client was closed") });
    // Shape, mode and voice checks: before any upload or join.
    const req = checkRequest(this.#rec, request);
    const scope = createScope(options.signal, options.timeoutMs ?? this.#timeoutMs);
    const work = (async () => {
      const input = promptAudioOf(this.#rec, req);
      const read = { fetch: this.#ctx.fetch, signal: scope.signal, maxBytes: this.#maxPromptBytes };
      const prompt = input === undefined ? null : await raceAbort(readAudioInput(input, read).then(checkPromptAudio), scope.signal);
      const maxRetries = options.maxRetries ?? this.#maxRetries;
      const done = await withRetries(maxRetries, scope, this.#ctx.logger, async (nextDelay) => {
        const ref = prompt ? await this.#upload(prompt, scope) : null;
        const data = buildPayload(this.#rec, req, ref, sink.modelStreaming);
        return this.#runOnce(data, scope, options.onProgress, sink, nextDelay);
      });
      return finish(done, scope);
    })();
    this.#active.set(scope, work.catch(() => undefined));
    try {
      return await work;
    } catch (e) {
      throw scope.reason ?? toSdkError(e);
    } finally {
      scope.dispose();
      this.#active.delete(scope);
    }
  }

  async #runOnce(
    data: unknown[],
    scope: CallScope,
    onProgress: RequestOptions["onProgress"],
    sink: Sink,
    retryAfterMs: () => number,
  ): Promise<JobDone> {
    const report = (p: Progress) => {
      if (!onProgress) return;
      try {
        onProgress(p);
      } catch (e) {
        this.#ctx.logger.warn?.({ err: String(e) }, "onProgress threw; ignored");
      }
    };
    let follower: PlaylistFollower | null = null;
    const drain = async (f: PlaylistFollower) => {
      const text = new TextDecoder().decode(await getBytes(this.#ctx, f.playlistUrl, scope.signal, MAX_PLAYLIST_BYTES, "the playlist"));
      for (const seg of f.take(parsePlaylist(text))) await this.#emit(seg, sink, scope, report);
    };
    const result = await runJob(this.#ctx, `/${this.#rec.spec.endpoint}`, this.#rec.fnIndex, data, scope, {
      onQueued: (q) => report({ stage: "queued", ...q }),
      onStarted: () => report({ stage: "started" }),
      retryAfterMs,
      ...(sink.follow
        ? {
            onOutput: async (file: OutputFile) => {
              follower ??= new PlaylistFollower(outputUrl(this.#ctx, file));
              await drain(follower);
            },
          }
        : {}),
    });
    const f = follower as PlaylistFollower | null;
    // The completion event normally brings the ended playlist; read it once more if it did not.
    if (f && !f.ended) await drain(f);
    return { file: result.file, generated: result.generated };
  }

  async #emit(seg: NewSegment, sink: Sink, scope: CallScope, report: (p: Progress) => void): Promise<void> {
    if (sink.fetchSegments) {
      // Wait for the reader before fetching: a slow reader holds the SDK back, not its memory.
      if (sink.ready) await raceAbort(sink.ready(), scope.signal);
      const bytes = await getBytes(this.#ctx, seg.url, scope.signal, this.#maxDownloadBytes, "a segment");
      const sampleRate = adtsSampleRate(bytes);
      if (sampleRate !== undefined) this.#noteSampleRate(sampleRate);
      const chunk: AudioChunk = { index: seg.index, data: bytes, mimeType: "audio/aac", durationMs: seg.durationMs };
      if (sampleRate !== undefined) chunk.sampleRate = sampleRate;
      sink.onChunk?.(chunk);
    }
    report({ stage: "chunk", index: seg.index, durationMs: seg.durationMs });
  }

  async #upload(prompt: PromptAudio, scope: CallScope): Promise<GradioFileRef> {
    const key = UploadCache.key(prompt.bytes, prompt.name);
    const file = new File([prompt.bytes as Uint8Array<ArrayBuffer>], prompt.name, { type: prompt.mimeType });
    const get = () =>
      this.#uploads.get(
        key,
        () => uploadFile(this.#ctx, file, scope.signal),
        (path) => serverHasFile(this.#ctx, path, scope.signal),
      );
    let path: string;
    try {
      path = await raceAbort(get(), scope.signal);
    } catch (e) {
      // A shared upload started by another call that was aborted: ours is still alive, try once more.
      if (!scope.signal.aborted && (e instanceof AbortError || (e instanceof CosyVoiceError && e.code === "timeout"))) {
        path = await raceAbort(get(), scope.signal);
      } else throw e;
    }
    return { path, orig_name: prompt.name, mime_type: prompt.mimeType, size: prompt.bytes.byteLength, meta: { _type: "gradio.FileData" } };
  }

  async #inspectWav(audio: Uint8Array): Promise<{ sampleRate: number; durationMs: number }> {
    let format;
    try {
      const { parseBuffer } = await import("music-metadata");
      format = (await parseBuffer(audio, { mimeType: "audio/wav" }, { duration: true })).format;
    } catch (e) {
      throw new UpstreamError("The CosyVoice web UI returned audio the SDK cannot read", String(e), { cause: e });
    }
    if (format.container !== "WAVE" || !format.sampleRate || format.duration === undefined) {
      throw new UpstreamError("The CosyVoice web UI did not return a WAV clip", `container ${String(format.container)}`);
    }
    this.#noteSampleRate(format.sampleRate);
    return { sampleRate: format.sampleRate, durationMs: Math.round(format.duration * 1000) };
  }

  /** Records the output rate in `backend` (first seen wins) and warns once if it contradicts the model. */
  #noteSampleRate(sampleRate: number): void {
    if (this.backend.sampleRate === undefined) this.backend.sampleRate = sampleRate;
    const expected = MODEL_SAMPLE_RATE[this.#rec.model];
    if (sampleRate !== expected && !this.#rateWarned) {
      this.#rateWarned = true;
      this.#ctx.logger.warn?.(
        { sampleRate, expected, model: this.#rec.model },
        "output sample rate does not match the stated model family; check the `model` option",
      );
    }
  }
}

/** Anything thrown inside a call, as an SDK error. */
function toSdkError(e: unknown): CosyVoiceError {
  if (e instanceof CosyVoiceError) return e;
  return new UpstreamError(`Unexpected failure talking to the CosyVoice web UI: ${(e as Error)?.message ?? String(e)}`, undefined, {
    cause: e,
  });
}

/**
 * Runs `attempt`, retrying with jittered backoff while the failure is retryable and happened
 * before the UI accepted anything. `attempt` receives the delay a QueueFullError should suggest.
 */
async function withRetries<T>(
  maxRetries: number,
  scope: CallScope,
  logger: Logger,
  attempt: (nextDelay: () => number) => Promise<T>,
): Promise<T> {
  for (let n = 0; ; n++) {
    const delay = backoffDelay(n, DEFAULT_BACKOFF);
    try {
      return await attempt(() => delay);
    } catch (e) {
      if (scope.reason) throw scope.reason;
      const err = toSdkError(e);
      // Again at the same UI: only what it certainly did not accept, and only what may pass later.
      if (n >= maxRetries || !err.retryable || !isSafeToResend(err)) throw err;
      const wait = err instanceof QueueFullError ? Math.min(err.retryAfterMs, DEFAULT_BACKOFF.capMs) : delay;
      logger.debug?.({ code: err.code, attempt: n + 1, waitMs: wait }, "retrying: nothing was accepted yet");
      await sleep(wait, scope.signal);
    }
  }
}

async function getJson<T>(fetchImpl: typeof fetch, url: string, headers: Record<string, string>, signal: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetchImpl(url, { headers, signal });
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    throw new ConnectionError(`Could not reach ${url}: ${(e as Error).message}`, { cause: e, accepted: false });
  }
  if (res.status >= 500) {
    await res.body?.cancel();
    throw new ConnectionError(`${url} answered HTTP ${res.status}`, { accepted: false });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new UnsupportedBackendError(`${url} answered HTTP ${res.status}; no Gradio app with a CosyVoice UI there`, {
      url,
      status: res.status,
    });
  }
  let text: string;
  try {
    text = new TextDecoder().decode(await readResponseCapped(res, MAX_JSON_BYTES));
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    if (e instanceof OverCapError) throw new UnsupportedBackendError(`${url} answered more than ${MAX_JSON_BYTES} bytes; not a CosyVoice UI`, { url });
    throw new ConnectionError(`The answer of ${url} broke off`, { cause: e, accepted: false });
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new UnsupportedBackendError(`${url} did not answer JSON; not a Gradio app`, { url, body: text.slice(0, 200) }, { cause: e });
  }
}

/** Downloads one of the UI's own outputs, never more than `maxBytes` (counted as they arrive). */
async function getBytes(ctx: GradioContext, url: string, signal: AbortSignal, maxBytes: number, what: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await ctx.fetch(url, { headers: ctx.headers, signal });
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    throw new ConnectionError(`Could not fetch ${url}: ${(e as Error).message}`, { cause: e });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new UpstreamError(`The CosyVoice web UI answered HTTP ${res.status} for its own output`, url);
  }
  try {
    return await readResponseCapped(res, maxBytes);
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    if (e instanceof OverCapError) {
      throw new UpstreamError(`The CosyVoice web UI sent more than ${maxBytes} bytes for ${what}; the download was stopped`, url);
    }
    throw new ConnectionError(`The download of ${url} broke off`, { cause: e });
  }
}
