/**
 * What the pool needs of one backend's job slots: the in-process {@link Slots} (the cap of one
 * instance) and the Redis-held {@link RedisSlots} (the cap over every instance) both are.
 */

/** One backend's job slots: `concurrency` running, a line of waiting jobs, refusal beyond it. */
export interface JobSlots {
  /** Jobs this instance runs and holds in line. */
  readonly load: { running: number; waiting: number };
  /** True when `acquire` would run or queue a job rather than refuse it. */
  readonly hasRoom: boolean;
  /** Jobs that may run at once. */
  readonly concurrency: number;
  /** A hint for a refused client. @unit seconds */
  retryAfterSeconds(): number;
  /** Takes a slot (waiting in line); resolves with its release. Rejects with a `CapacityError` when the line is full. */
  acquire(signal?: AbortSignal): Promise<() => void>;
  /** Resolves when this instance runs and waits for nothing here. */
  idle(): Promise<void>;
  /** Stops background work (the shared slots' renewals and release channel). */
  close?(): Promise<void>;
}
