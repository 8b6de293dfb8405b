/** The pool's public shapes: what it reports of each backend and the options it takes. */
import type { Mode, RequestOptions } from "cosyvoice3-sdk";
import type { Logger } from "pino";
import type { BoxInfo, SynthesisBackend } from "../port.ts";
import type { BoxBreaker, BreakerState } from "../breaker/index.ts";
import type { JobSlots } from "../../service/caps/job-slots.ts";
import type { BackendState, BoxEntry, BoxRegistry, BoxStatus } from "../registry/index.ts";
import type { Lease } from "./lease.ts";
import type { JobNeeds } from "./rank.ts";

/** One backend of the pool as `/readyz` reports it (never its URL: that stays in the log). */
export interface BackendStatus {
  name: string;
  /** The kind of server, once named or checked. */
  kind?: BoxInfo["kind"];
  state: BackendState;
  running: number;
  waiting: number;
  /** When it was last checked (ISO 8601). */
  checkedAt?: string;
  /** The problem slug of the last failure while down, e.g. `backend-unreachable`. */
  error?: string;
  /** Its circuit breaker, when it has one. */
  breaker?: BreakerState;
}

/** Everything the pool knows of one backend, without a network call. */
export interface BackendView extends BackendStatus {
  /** Its slots: jobs that may run at once. */
  concurrency: number;
  /** What it is, once checked or used (absent before). */
  variant?: BoxInfo["variant"];
  /** The codec of its streamed chunks (known from its kind before it is checked, when named). */
  codec?: BoxInfo["codec"];
  model?: BoxInfo["model"];
  modes?: Mode[];
  speakers?: string[];
  /** @unit hertz */
  sampleRate?: number;
}

/** One backend handed to the pool. */
export interface PoolMember {
  /** Shown in `/readyz` and logs, e.g. `backend-1`. */
  name: string;
  backend: SynthesisBackend;
  /** Its job slots (this instance's, or held in Redis over every instance). */
  slots: JobSlots;
  /** Consecutive box faults open it: the box then gets no jobs until one probe succeeds. */
  breaker?: BoxBreaker;
  /** Logged, never sent to clients. */
  url?: string;
  /** Its kind and codec when the address named them (else learned from its first check). */
  kind?: BoxInfo["kind"];
  codec?: BoxInfo["codec"];
}

/** Options of {@link BackendPool}. */
export interface BackendPoolOptions {
  /** Its first boxes (added to the registry); may be empty when `registry` is given. */
  members: PoolMember[];
  /** The registry of boxes it reads (shared with the passthrough and the ASR client). @default one of its own */
  registry?: BoxRegistry;
  /** What a new address becomes (`sync`): its driver, kind and codec; the pool names it. @default none: `sync` refuses */
  addressEntry?: (address: string) => Omit<BoxEntry, "name">;
  logger: Logger;
  /** Period of the health check that `start()` runs (on its own registry; a given one has its own); 0 means none. @default 0 @unit milliseconds */
  healthCheckIntervalMs?: number;
  /**
   * A readiness question looks again at a box marked down at most once per this period (after a
   * burst of three); otherwise it answers from what the pool knows. @default 1_000 @unit milliseconds
   */
  readinessRecheckMs?: number;
  /** @default Date.now */
  now?: () => number;
  /** Told of every slot wait and job (metrics). */
  observer?: PoolObserver;
}

/** What the pool reports as it works (the metrics listen). */
export interface PoolObserver {
  /** A job waited this long for a slot on `backend`. @unit seconds */
  queueWait(backend: string, seconds: number): void;
  /** A job attempt on `backend` ended. @unit seconds */
  job(backend: string, outcome: "ok" | "error" | "aborted", seconds: number): void;
}

/** Per-call options of the pool: the SDK's, plus the slot the request already holds. */
export interface PoolRequestOptions extends RequestOptions {
  /** From {@link BackendPool.acquire}; without one the call takes (and frees) its own. */
  lease?: Lease;
}

/** Options of {@link BackendPool.acquire}. */
export interface AcquireOptions {
  /** What the job needs: only boxes known to offer it are chosen (unknown ones may be). */
  needs?: JobNeeds | undefined;
  /** `background`: a narration segment, which never holds a slot an interactive request waits for (see `Slots`). @default "interactive" */
  priority?: "interactive" | "background" | undefined;
}

/** What `/readyz` needs: the first ready box, every box's status, and the failure when none is ready. */
export interface Readiness {
  ready: { name: string; info: BoxInfo } | undefined;
  backends: BackendStatus[];
  /** Every box of the registry once (the pool's, the passthrough's, the ASR's), with its kind and doors. */
  boxes: BoxStatus[];
  /** The first box's last failure, when none is ready. */
  lastError?: unknown;
}

