import type { RequestHandler } from "express";
import type { Store } from "express-rate-limit";
import type { Logger } from "pino";
import type { SynthesisBackend } from "./backends/port.ts";
import type { GatewayConfig } from "./platform/config.ts";
import type { Encoders } from "./service/encode/encoders.ts";
import type { Scope } from "./platform/auth/index.ts";
import type { SynthesisCache } from "./service/cache/index.ts";
import type { GatewayMetrics } from "./platform/metrics/index.ts";
import type { Passthrough } from "./doors/passthrough/passthrough.ts";
import type { BackendPool } from "./backends/pool/index.ts";
import type { Slots } from "./service/caps/slots.ts";
import type { AudioStore } from "./platform/stores/audio-store.ts";
import type { SynthesisService } from "./service/synthesis/service.ts";
import type { VoiceStore } from "./platform/stores/voice-store.ts";
import type { ConsentStore } from "./platform/stores/consent-store.ts";
import type { AsrClient } from "./backends/asr/client.ts";
import type { JobService } from "./jobs/service.ts";

/** A source of the current time (injected so tests and stores agree on it). */
export interface Clock {
  /** @unit milliseconds since the epoch */
  now(): number;
}

/** The parts `createApp` is built from. */
export interface GatewayDeps {
  /** One backend, or a {@link BackendPool} of several (which brings its own slots per backend). */
  backend: SynthesisBackend;
  voices: VoiceStore;
  audio: AudioStore;
  logger: Logger;
  /** @default Date.now */
  clock?: Clock;
  /** Job slots of a single backend. @default new Slots(config); not allowed with a BackendPool */
  slots?: Slots;
  /**
   * Rate-limit counters shared by several gateway instances (one store per quota, by its name:
   * `read`, `upload`, `synthesize`). @default counters in this process
   */
  rateLimitStore?: (name: string) => Store;
  /** Aborts running jobs when it fires (graceful shutdown). */
  shutdown?: AbortSignal;
  /** The audio encoders (ffmpeg). @default new Encoders({ max: config.maxEncoders }) */
  encoders?: Encoders;
  /** Where `/metrics` counts (one registry per app). @default createMetrics() */
  metrics?: GatewayMetrics;
  /** The synthesis cache (see `openCache`); without one nothing is cached. */
  cache?: SynthesisCache;
  /** Voice consents. @default in this process only (openStores brings a disk or Redis one) */
  consents?: ConsentStore;
  /** The speech-recognition box. @default one for ASR_URL when it is set, else none */
  asr?: AsrClient;
  /** The routes file's routes (`/cosyvoice/...` and the like), served after the gateway's own. */
  passthrough?: Passthrough;
  /**
   * Narration jobs (`/jobs`), built over the app's synthesis service (see `createJobs`); without
   * it `/jobs` is not served.
   */
  jobs?: (parts: { synthesis: SynthesisService; pool: BackendPool; encoders: Encoders; voices: VoiceStore; audio: AudioStore; logger: Logger }) => JobService;
  /** The shared store (Redis) `/readyz` asks first: its failure (a `store_unavailable` error) is the answer. */
  sharedStore?: { ping(): Promise<void> };
}

/** What each route group gets: config, parts, and the shared guards. */
export interface RouteContext {
  config: GatewayConfig;
  deps: Required<Omit<GatewayDeps, "shutdown" | "backend" | "slots" | "rateLimitStore" | "metrics" | "cache" | "passthrough" | "consents" | "asr" | "jobs" | "sharedStore">> & {
    consents: ConsentStore;
    /** Transcribes voices saved without a transcript, and consent recordings. */
    asr?: AsrClient;
    backend: BackendPool;
    /** The synthesis pipeline every door calls. */
    synthesis: SynthesisService;
    shutdown?: AbortSignal;
    sharedStore?: { ping(): Promise<void> };
  };
  guards: {
    auth: RequestHandler;
    /** Refuses (403) a token whose `scope` claim lacks this scope. */
    scope: (scope: Scope) => RequestHandler;
    readLimit: RequestHandler;
    uploadLimit: RequestHandler;
    synthesizeLimit: RequestHandler;
  };
}
