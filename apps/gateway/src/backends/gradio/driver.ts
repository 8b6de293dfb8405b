/**
 * The `gradio` driver: a CosyVoice web UI (the official one or the cv3-en one), through the SDK's
 * `CosyVoice` client. Its chunks are AAC (ADTS) segments; tests may inject their own connect.
 */
import {
  CosyVoice,
  type AudioChunk,
  type BackendInfo,
  type ClientOptions,
  type RequestOptions,
  type SynthesisRequest,
  type SynthesisResult,
} from "cosyvoice3-sdk";
import { faultOf } from "../faults.ts";
import type { BackendChunk, BoxInfo, DriverOptions, SynthesisBackend } from "../port.ts";

/**
 * The driver's factory: the SDK client, connected on first use.
 * @example const box = gradioBackend("http://gpu-1:7860", { model: "cosyvoice3", timeoutMs: 60_000 });
 */
export function gradioBackend(url: string, options: DriverOptions): SynthesisBackend {
  return connectingBackend(url, {
    client: {
      model: options.model,
      timeoutMs: options.timeoutMs,
      maxRetries: options.maxRetries ?? 0,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    },
  });
}

/**
 * The port's description of a Gradio UI, from the SDK's recognition of it: instruct takes a
 * built-in speaker on the official UI (CosyVoice1) and prompt audio on the cv3-en UI.
 * @example gradioInfo(client.backend).codec // "adts"
 */
export function gradioInfo(info: BackendInfo): BoxInfo {
  const instruct = info.modes.includes("instruct") ? { instructNeeds: info.variant === "official" ? ("voice" as const) : ("promptAudio" as const) } : {};
  return { ...info, kind: "gradio", codec: "adts", speed: true, ...instruct };
}

/** SDK chunks as the port's: AAC in ADTS frames. */
async function* adtsChunks(chunks: AsyncIterable<AudioChunk>): AsyncGenerator<BackendChunk> {
  for await (const c of chunks) {
    yield { index: c.index, data: c.data, codec: { kind: "adts" }, durationMs: c.durationMs, ...(c.sampleRate !== undefined ? { sampleRate: c.sampleRate } : {}) };
  }
}

/** The part of the SDK client the gateway calls (so a test can inject a stub connect). */
export interface CosyVoiceLike {
  readonly backend: BackendInfo;
  listVoices(): Promise<string[]>;
  synthesize(request: SynthesisRequest, options?: RequestOptions): Promise<SynthesisResult>;
  stream(request: SynthesisRequest, options?: RequestOptions): AsyncIterable<AudioChunk>;
  close(): Promise<void>;
}

/** Options of {@link connectingBackend}. */
export interface ConnectingBackendOptions {
  client?: ClientOptions;
  /** @default CosyVoice.connect */
  connect?: (url: string, options: ClientOptions) => Promise<CosyVoiceLike>;
}

/**
 * A backend that connects the SDK client on first use rather than at start-up, so the gateway
 * starts (and says "not ready") while the GPU box is still loading; after a connection failure
 * the next call connects afresh.
 * @example
 * const backend = connectingBackend("http://127.0.0.1:7860", { client: { model: "cosyvoice3", timeoutMs: 60_000 } });
 * const info = await backend.info();
 */
export function connectingBackend(url: string, options: ConnectingBackendOptions = {}): SynthesisBackend {
  const connect = options.connect ?? ((u: string, o: ClientOptions) => CosyVoice.connect(u, o));
  const clientOptions = options.client ?? {};
  let current: Promise<CosyVoiceLike> | undefined;
  /** A probe failed since the last successful one (the box was down or restarting). */
  let unreachableSinceProbe = false;

  const forget = (p: Promise<CosyVoiceLike>) => {
    if (current === p) current = undefined;
    p.then((c) => c.close()).catch(() => undefined);
  };
  const client = (): Promise<CosyVoiceLike> => {
    if (!current) {
      const p = connect(url, clientOptions);
      current = p;
      p.catch(() => {
        if (current === p) current = undefined;
      });
    }
    return current;
  };
  // Drops the client after errors that say the backend went away, so the next call reconnects.
  async function use<T>(fn: (c: CosyVoiceLike) => Promise<T>): Promise<T> {
    const p = client();
    const c = await p;
    try {
      return await fn(c);
    } catch (err) {
      if (faultOf(err).boxDown) forget(p);
      throw err;
    }
  }

  return {
    info: () => client().then((c) => gradioInfo(c.backend)),
    async probe() {
      // A fresh connect proves the backend answers now; the cached client is kept because
      // closing it would cut the jobs running on it.
      let fresh: CosyVoiceLike;
      try {
        fresh = await connect(url, clientOptions);
      } catch (err) {
        unreachableSinceProbe = true;
        throw err;
      }
      if (!current || unreachableSinceProbe) {
        // The box did not answer since the cached client connected: it may have restarted and
        // lost its uploads, so jobs from now on use the fresh client. The old one is dropped,
        // not closed: closing would cancel any job still running through it.
        current = Promise.resolve(fresh);
      } else {
        await fresh.close().catch(() => undefined);
      }
      unreachableSinceProbe = false;
      return gradioInfo(fresh.backend);
    },
    listVoices: () => use((c) => c.listVoices()),
    synthesize: (request, opts) => use((c) => c.synthesize(request, opts)),
    async *stream(request, opts) {
      const p = client();
      const c = await p;
      try {
        yield* adtsChunks(c.stream(request, opts));
      } catch (err) {
        if (faultOf(err).boxDown) forget(p);
        throw err;
      }
    },
    async close() {
      const p = current;
      current = undefined;
      if (p) await p.then((c) => c.close()).catch(() => undefined);
    },
  };
}
