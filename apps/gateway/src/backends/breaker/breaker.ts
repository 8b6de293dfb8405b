/**
 * A circuit breaker per box: consecutive box faults open it, an open box gets no jobs, and once
 * `halfOpenAfterMs` has passed exactly one job is let through as the probe; its success closes
 * the breaker, its failure opens it again. Failures the input caused (the UI's warning,
 * validation, an unsupported mode) and the caller giving up say nothing about the box and are
 * not counted.
 */
import type { Logger } from "pino";
import { faultOf } from "../faults.ts";

/**
 * Whether a failed job counts against its backend, as the error declares (`boxFault`): the box
 * is unreachable, raised a hidden error, answered unusably, or took longer than its client's
 * deadline. Input faults (a warning, validation) and the caller's abort are not; a full queue
 * is capacity, handled by the pool's cool-down.
 * @example isBoxFault(new UpstreamError("job failed")) // true
 */
export function isBoxFault(err: unknown): boolean {
  return faultOf(err).boxFault;
}

/** The breaker's state as `/readyz` and metrics show it. */
export type BreakerState = "closed" | "open" | "half-open";

/**
 * A box's breaker, as every door that sends the box work sees it (the pool, the ASR client).
 * Two implementations: this process's own ({@link BackendBreaker}) and one shared by every
 * instance in Redis (`SharedBreaker`, chosen with `STORE=redis`).
 *
 * Each job asks `allow()` once before it is sent and reports exactly one of `success()` or
 * `failure(err)` when it ends (a failure the error does not declare a box fault counts as a
 * success: the box worked). While half-open, the outcome reported is the probe's.
 * @example
 * if (!breaker.allow()) throw new BreakerOpenError(breaker.retryAfterMs(), [box.name]);
 * try { await job(); breaker.success(); } catch (err) { breaker.failure(err); throw err; }
 */
export interface BoxBreaker {
  /** `closed`, `open` (refusing), or `half-open` (its probe job is due or running). */
  readonly state: BreakerState;
  /** True when a job sent now would run; the check takes nothing (see {@link allow}). */
  admits(): boolean;
  /** Takes the right to send one job now: closed, or open with its wait over (that job is the probe). */
  allow(): boolean;
  /** The job allowed last ended well (or failed through no fault of the box). */
  success(): void;
  /** The job allowed last failed: counted when the error declares a box fault. */
  failure(err: unknown): void;
  /** How long until a job would be allowed; 0 when one would now. @unit milliseconds */
  retryAfterMs(now?: number): number;
  /** Stops background work, when it has any. */
  close?(): Promise<void>;
}

/** The outcome of one admitted job, reported when it ends (the older shape over {@link BoxBreaker}). */
export interface BreakerTicket {
  /** The job finished, or failed in a way `isBoxFault` does not count. Safe to call once; later calls are ignored. */
  done(err?: unknown): void;
}

/** The pool's breaker: the same thing. */
export type PoolBreaker = BoxBreaker;

/**
 * One job's right to run, taken from a breaker; its outcome reported once.
 * @throws Error when the breaker does not admit a job now
 * @example const t = ticketOf(breaker); try { await job(); t.done(); } catch (e) { t.done(e); }
 */
export function ticketOf(breaker: BoxBreaker): BreakerTicket {
  if (!breaker.allow()) throw new Error("the breaker does not admit a job now; check admits() first");
  let settled = false;
  return {
    done(err?: unknown) {
      if (settled) return;
      settled = true;
      if (err === undefined) breaker.success();
      else breaker.failure(err);
    },
  };
}

/** Options of {@link BackendBreaker}. */
export interface BackendBreakerOptions {
  /** Backend name, for the log. */
  name: string;
  /** Consecutive box faults that open the breaker. @default 5 */
  threshold?: number;
  /** How long an open breaker refuses before one probe job is let through. @default 10_000 @unit milliseconds */
  halfOpenAfterMs?: number;
  logger: Logger;
  /** @default Date.now */
  now?: () => number;
}

/**
 * This process's breaker of one box.
 * @example
 * const breaker = new BackendBreaker({ name: "backend-1", logger });
 * if (breaker.allow()) { try { await job(); breaker.success(); } catch (e) { breaker.failure(e); throw e; } }
 */
export class BackendBreaker implements BoxBreaker {
  private readonly threshold: number;
  private readonly halfOpenAfterMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  /** Box faults in a row. */
  private failures = 0;
  /** When it last opened; 0 while closed. @unit milliseconds since the epoch */
  private openedAt = 0;
  /** Its probe job is running. */
  private probing = false;

  constructor(opts: BackendBreakerOptions) {
    this.threshold = opts.threshold ?? 5;
    this.halfOpenAfterMs = opts.halfOpenAfterMs ?? 10_000;
    this.now = opts.now ?? Date.now;
    this.log = opts.logger.child({ backend: opts.name });
  }

  get state(): BreakerState {
    if (this.openedAt === 0) return "closed";
    return this.probing ? "half-open" : "open";
  }

  admits(now = this.now()): boolean {
    return this.openedAt === 0 || (!this.probing && now - this.openedAt >= this.halfOpenAfterMs);
  }

  allow(): boolean {
    if (!this.admits()) return false;
    if (this.openedAt !== 0) {
      this.probing = true;
      this.log.info("breaker half-open: one probe job");
    }
    return true;
  }

  success(): void {
    this.failures = 0;
    if (!this.probing) return;
    this.probing = false;
    this.openedAt = 0;
    this.log.info("breaker closed: the backend takes jobs again");
  }

  failure(err: unknown): void {
    if (!isBoxFault(err)) return this.success();
    if (this.probing) {
      this.probing = false;
      return this.open(err);
    }
    if (this.openedAt !== 0) return;
    if (++this.failures >= this.threshold) this.open(err);
  }

  /** How long until a job would be admitted; 0 when one would now. A half-open breaker says one wait. @unit milliseconds */
  retryAfterMs(now = this.now()): number {
    if (this.admits(now)) return 0;
    if (this.probing) return this.halfOpenAfterMs;
    return Math.max(0, this.openedAt + this.halfOpenAfterMs - now);
  }

  /**
   * Admits one job (call only when {@link admits} said so, in the same tick); report its end on
   * the ticket.
   * @throws Error when the breaker does not admit a job now
   */
  admit(): BreakerTicket {
    return ticketOf(this);
  }

  private open(err: unknown): void {
    this.openedAt = this.now();
    this.failures = 0;
    this.log.warn({ retryInMs: this.halfOpenAfterMs, error: faultOf(err).code || undefined }, "breaker open: the backend gets no jobs");
  }
}
