/**
 * Identical jobs in flight run once: the first caller starts the job, later ones with the same
 * key follow it (they get every item from the start, then the rest as it comes). A follower
 * that leaves does not disturb the others; when the last one leaves, the job is aborted. A whole
 * clip is a one-item job, a stream is a job of chunks.
 */

/** The reason a job is aborted with once nobody follows it any more. */
export class NobodyListeningError extends Error {
  override name = "NobodyListeningError";
  readonly code = "aborted" as const;
  constructor() {
    super("Every caller of this job went away");
  }
}

class Flight<T> {
  constructor(readonly spec: JobSpec<T>) {}
  readonly items: T[] = [];
  finished = false;
  failed = false;
  error: unknown;
  followers = 0;
  started = false;
  /** The job runs on another instance and this flight relays it (see `redis-flights.ts`). */
  remote = false;
  readonly controller = new AbortController();
  private wakers: (() => void)[] = [];

  wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }

  /** Resolves on the next item or the end; rejects with the signal's reason when it aborts first. */
  next(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.wakers.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }
}

/** One job as a caller sees it. */
export interface JoinedJob<T> {
  /** True when the job was already running for another caller. */
  readonly shared: boolean;
  /** True once the job turned out to run on another instance: its items are that instance's (known by the first item). */
  readonly remote: boolean;
  /** Every item of the job, as it comes; leaving the loop (or the signal aborting) stops following. */
  follow(signal?: AbortSignal): AsyncGenerator<T>;
}

/** Options of {@link SharedJobs.join}. */
export interface JobSpec<T> {
  /**
   * Runs the job; called once per flight, with a signal that aborts when nobody follows any more.
   * A job that follows another instance's instead of running calls `side.onFollow()`.
   */
  start(signal: AbortSignal, side: { onFollow(): void }): AsyncIterable<T>;
  /** Called with every item once the job finished well here (e.g. to store the clip); not when another instance ran it. The job stays joinable until it settles. */
  onDone?(items: readonly T[]): void | Promise<void>;
}

/**
 * @example
 * const jobs = new SharedJobs<Clip>();
 * const job = jobs.join(key, { start: (signal) => once(run(signal)) });
 * for await (const clip of job.follow(callerSignal)) return clip;
 */
export class SharedJobs<T> {
  private readonly flights = new Map<string, Flight<T>>();

  /** Jobs in flight now. */
  get size(): number {
    return this.flights.size;
  }

  join(key: string, spec: JobSpec<T>): JoinedJob<T> {
    const existing = this.flights.get(key);
    const shared = existing !== undefined;
    const flight = existing ?? new Flight<T>(spec);
    if (!existing) this.flights.set(key, flight);
    const flights = this.flights;

    const pump = async () => {
      try {
        // The spec of whoever created the flight, whoever follows first.
        const side = { onFollow: () => void (flight.remote = true) };
        for await (const item of flight.spec.start(flight.controller.signal, side)) {
          flight.items.push(item);
          flight.wake();
        }
        flight.finished = true;
      } catch (err) {
        flight.failed = true;
        flight.error = err;
      }
      flight.wake();
      // A finished job stays joinable until its result is stored, so a caller arriving in
      // between gets it rather than starting the job again.
      if (flight.finished && !flight.remote) await Promise.resolve(flight.spec.onDone?.(flight.items)).catch(() => undefined);
      if (flights.get(key) === flight) flights.delete(key);
    };

    async function* follow(signal?: AbortSignal): AsyncGenerator<T> {
      flight.followers++;
      if (!flight.started) {
        flight.started = true;
        void pump();
      }
      try {
        let i = 0;
        for (;;) {
          if (i < flight.items.length) {
            yield flight.items[i++] as T;
            continue;
          }
          if (flight.failed) throw flight.error;
          if (flight.finished) return;
          await flight.next(signal);
        }
      } finally {
        flight.followers--;
        if (flight.followers === 0 && !flight.finished && !flight.failed) {
          // Nobody wants it any more: new callers start afresh, and the job stops.
          if (flights.get(key) === flight) flights.delete(key);
          flight.controller.abort(new NobodyListeningError());
        }
      }
    }
    return {
      shared,
      get remote() {
        return flight.remote;
      },
      follow,
    };
  }
}
