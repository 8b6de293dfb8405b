/**
 * A circuit breaker per backend (cockatiel): consecutive box faults open it, an open box gets no
 * jobs, and once `halfOpenAfterMs` has passed exactly one job is let through as the probe; its
 * success closes the breaker, its failure opens it again. Failures the input caused (the UI's
 * warning, validation, an unsupported mode) and the caller giving up say nothing about the box
 * and are not counted.
 */
import { circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhen, type CircuitBreakerPolicy } from "cockatiel";
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

/** Options of {@link BackendBreaker}. */
export interface BackendBreakerOptions {
  /** Backend name, for the log. */
  name: string;
  /** Consecutive box faults that open the breaker. @default 5 */
  threshold?: number;
  /** How long an open breaker refuses before one probe job is let through. @default 10_000 @unit milliseconds */
  halfOpenAfterMs?: number;
  logger: Logger;
}

/** The outcome of one admitted job, reported when it ends. */
export interface BreakerTicket {
  /** The job finished, or failed in a way `isBoxFault` does not count. Safe to call once; later calls are ignored. */
  done(err?: unknown): void;
}

/**
 * What the pool needs of a box's breaker: this process's own ({@link BackendBreaker}) or one
 * shared by every instance in Redis (`SharedBreaker`).
 */
export interface PoolBreaker {
  /** `closed`, `open`, or `half-open`. */
  readonly state: BreakerState;
  /** True when a job sent now would run. */
  admits(): boolean;
  /** How long until a job would be admitted; 0 when one would now. @unit milliseconds */
  retryAfterMs(now?: number): number;
  /** Admits one job (only when `admits()` said so, in the same tick); report its end on the ticket. */
  admit(): BreakerTicket;
  /** Stops background work, when it has any. */
  close?(): Promise<void>;
}

/**
 * @example
 * const breaker = new BackendBreaker({ name: "backend-1", logger });
 * if (breaker.admits()) { const t = breaker.admit(); try { await job(); t.done(); } catch (e) { t.done(e); throw e; } }
 */
export class BackendBreaker {
  private readonly policy: CircuitBreakerPolicy;
  private readonly halfOpenAfterMs: number;
  /** When it last opened. @unit milliseconds since the epoch */
  private openedAt = 0;

  constructor(opts: BackendBreakerOptions) {
    this.halfOpenAfterMs = opts.halfOpenAfterMs ?? 10_000;
    this.policy = circuitBreaker(handleWhen(isBoxFault), {
      halfOpenAfter: this.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(opts.threshold ?? 5),
    });
    const log = opts.logger.child({ backend: opts.name });
    this.policy.onBreak((reason) => {
      this.openedAt = Date.now();
      log.warn({ retryInMs: this.halfOpenAfterMs, error: "error" in reason ? (reason.error as { code?: string }).code : undefined }, "breaker open: the backend gets no jobs");
    });
    this.policy.onHalfOpen(() => log.info("breaker half-open: one probe job"));
    this.policy.onReset(() => log.info("breaker closed: the backend takes jobs again"));
  }

  /** `closed`, `open`, or `half-open` (its probe job is running). */
  get state(): BreakerState {
    const s = this.policy.state;
    return s === CircuitState.Closed ? "closed" : s === CircuitState.HalfOpen ? "half-open" : "open";
  }

  /** True when a job sent now would run: closed, or open with its wait over (that job is the probe). */
  admits(now = Date.now()): boolean {
    const s = this.policy.state;
    return s === CircuitState.Closed || (s === CircuitState.Open && now - this.openedAt >= this.halfOpenAfterMs);
  }

  /** How long until a job would be admitted; 0 when one would now. A half-open breaker says one wait. @unit milliseconds */
  retryAfterMs(now = Date.now()): number {
    if (this.admits(now)) return 0;
    if (this.policy.state === CircuitState.HalfOpen) return this.halfOpenAfterMs;
    return Math.max(0, this.openedAt + this.halfOpenAfterMs - now);
  }

  /**
   * Admits one job (call only when {@link admits} said so, in the same tick); report its end on
   * the ticket.
   * @throws Error when the breaker does not admit a job now
   */
  admit(): BreakerTicket {
    if (!this.admits()) throw new Error("the breaker does not admit a job now; check admits() first");
    let settle: ((err?: unknown) => void) | undefined;
    const outcome = new Promise<void>((resolve, reject) => {
      settle = (err) => (err === undefined ? resolve() : reject(err));
    });
    // The policy reads the job's outcome from this promise; its own rejection is the job's error, already handled by the caller.
    this.policy.execute(() => outcome).catch(() => undefined);
    return {
      done(err?: unknown) {
        const s = settle;
        settle = undefined;
        s?.(err);
      },
    };
  }
}
