/**
 * The queue of narration jobs: which job runs next, and on which instance. Two implementations,
 * one interface: {@link LocalJobQueue} (embedded: the disk job store is the durable queue) and
 * `BullJobQueue` (STORE=redis: BullMQ, workers on every instance).
 */

/** What the jobs service needs of a queue. */
export interface JobQueue {
  /** Queues a job (already in the store) to run. */
  add(id: string): Promise<void>;
  /** Drops a job that has not started (canceled while queued); a running one is stopped through its events. */
  remove(id: string): Promise<void>;
  /** Starts taking jobs (after a restart: the unfinished ones first). */
  start(): Promise<void>;
  /** Stops taking jobs and interrupts the running ones (they resume on the next start, or elsewhere). */
  close(): Promise<void>;
}
