/**
 * Job slots for one backend: `concurrency` jobs run, up to `queueSize` wait in order, and
 * anyone beyond that is refused at once with a retry hint instead of piling onto the UI's own
 * queue. Also the gateway's view of what is running, for graceful shutdown.
 */
import { CapacityError } from "../errors.ts";

/** Options of {@link Slots}. */
export interface SlotsOptions {
  /** Jobs running at once. @default 2 (the UI's default_concurrency_limit) */
  concurrency: number;
  /** Jobs waiting for a slot. @default 2 */
  queueSize: number;
  /** @default Date.now */
  now?: () => number;
}

interface Waiter {
  grant: (release: () => void) => void;
  fail: (err: unknown) => void;
}

/**
 * @example
 * const slots = new Slots({ concurrency: 2, queueSize: 2 });
 * const release = await slots.acquire(signal); try { await job(); } finally { release(); }
 */
export class Slots {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private idleWaiters: (() => void)[] = [];
  /** Smoothed job duration, for Retry-After. @unit milliseconds */
  private averageMs = 5_000;
  private readonly now: () => number;

  constructor(private readonly opts: SlotsOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Jobs running and waiting. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** True when `acquire` would run or queue a job rather than refuse it. */
  get hasRoom(): boolean {
    return this.running < this.opts.concurrency || this.waiting.length < this.opts.queueSize;
  }

  /** Jobs that may run at once. */
  get concurrency(): number {
    return this.opts.concurrency;
  }

  /** A hint for a refused client: about one job's time per place ahead of it. @unit seconds */
  retryAfterSeconds(): number {
    const ahead = this.waiting.length + 1;
    return Math.max(1, Math.ceil((this.averageMs * ahead) / this.opts.concurrency / 1000));
  }

  /**
   * Takes a slot, waiting in line when all run; rejects at once with a {@link CapacityError} when the
   * line is full, and with the signal's reason when it aborts while waiting.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.running < this.opts.concurrency) return Promise.resolve(this.start());
    if (this.waiting.length >= this.opts.queueSize) {
      const retryAfterSeconds = this.retryAfterSeconds();
      return Promise.reject(new CapacityError(retryAfterSeconds * 1000, `${this.running} jobs are running and ${this.waiting.length} waiting`));
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
        fail: (err) => {
          signal?.removeEventListener("abort", onAbort);
          reject(err);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private start(): () => void {
    this.running++;
    const started = this.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.averageMs = 0.8 * this.averageMs + 0.2 * (this.now() - started);
      this.running--;
      const next = this.waiting.shift();
      if (next) next.grant(this.start());
      else if (this.running === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        waiters.forEach((w) => w());
      }
    };
  }

  /** Resolves when nothing runs or waits. */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
