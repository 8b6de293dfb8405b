/**
 * What the gateway needs from a CosyVoice backend. The SDK's `CosyVoice` client satisfies it
 * through {@link connectingBackend}; tests may inject their own.
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

/** The synthesis surface the routes use. */
export interface SynthesisBackend {
  /** What the backend is (variant, model, modes, speakers); connects first when needed. */
  info(): Promise<BackendInfo>;
  /** Checks now that the backend answers and is a recognised UI (readiness). */
  probe(): Promise<BackendInfo>;
  listVoices(): Promise<string[]>;
  synthesize(request: SynthesisRequest, options?: RequestOptions): Promise<SynthesisResult>;
  stream(request: SynthesisRequest, options?: RequestOptions): AsyncIterable<AudioChunk>;
  close(): Promise<void>;
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

const RECONNECT_CODES = new Set(["connection", "unsupported_backend"]);

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
      if (RECONNECT_CODES.has((err as { code?: string }).code ?? "")) forget(p);
      throw err;
    }
  }

  return {
    info: () => client().then((c) => c.backend),
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
      return fresh.backend;
    },
    listVoices: () => use((c) => c.listVoices()),
    synthesize: (request, opts) => use((c) => c.synthesize(request, opts)),
    async *stream(request, opts) {
      const p = client();
      const c = await p;
      try {
        yield* c.stream(request, opts);
      } catch (err) {
        if (RECONNECT_CODES.has((err as { code?: string }).code ?? "")) forget(p);
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
