/**
 * The shared job queue (STORE=redis) on BullMQ: every instance runs a worker; a job is taken by
 * one; its lock is renewed while it runs, and when the instance dies (SIGKILL, power) the lock
 * lapses after `lockMs`, BullMQ's stalled-job check moves the job back to wait and another
 * instance takes it up, from its last finished segment (the job store has them). A stopping
 * instance gives its jobs back at once (moveToWait). `startsPerMinute` is BullMQ's rate limiter
 * over every instance.
 */
import { Queue, WaitingError, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { JobQueue } from "./queue.ts";
import { JobInterruptedError, type JobWorker } from "./worker.ts";

/** Options of {@link BullJobQueue}. */
export interface BullJobQueueOptions {
  redisUrl: string;
  /** Key prefix (BullMQ's keys go under `<prefix>bull:`). */
  prefix: string;
  worker: JobWorker;
  /** Jobs this instance runs at once. @default 1 */
  concurrency?: number;
  /** A dead instance's job is taken up after this long. @default 30_000 @unit milliseconds */
  lockMs?: number;
  /** Jobs started per minute over every instance; 0: no limit. @default 0 */
  startsPerMinute?: number;
  logger: Logger;
}

const QUEUE = "narration";

/**
 * @example
 * const queue = new BullJobQueue({ redisUrl, prefix: "cosyvoice3-gateway:", worker, logger });
 * await queue.start(); await queue.add(job.id);
 */
export class BullJobQueue implements JobQueue {
  private readonly connection: Redis;
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private readonly stop = new AbortController();

  constructor(private readonly opts: BullJobQueueOptions) {
    // BullMQ's blocking commands need no per-request retry limit.
    this.connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
    this.connection.on("error", () => undefined);
    this.queue = new Queue(QUEUE, { connection: this.connection, prefix: `${opts.prefix}bull` });
    this.queue.on("error", (err) => opts.logger.warn({ err: err.message }, "job queue error"));
  }

  async add(id: string): Promise<void> {
    // The job id is ours: adding it twice is a no-op. Finished entries go (the store keeps the job).
    await this.queue.add(QUEUE, { id }, { jobId: id, removeOnComplete: true, removeOnFail: true });
  }

  async remove(id: string): Promise<void> {
    // A running job is locked by its worker and stays; its worker sees the cancel and ends it.
    await (await this.queue.getJob(id))?.remove().catch(() => undefined);
  }

  async start(): Promise<void> {
    if (this.worker) return;
    const lockMs = this.opts.lockMs ?? 30_000;
    const rate = this.opts.startsPerMinute ?? 0;
    this.worker = new Worker(
      QUEUE,
      async (job, token) => {
        const id = (job.data as { id: string }).id;
        try {
          await this.opts.worker.run(id, this.stop.signal);
        } catch (err) {
          if (err instanceof JobInterruptedError) {
            // Back to wait for another instance (or this one after its restart).
            await job.moveToWait(token);
            throw new WaitingError();
          }
          throw err;
        }
      },
      {
        connection: this.connection,
        prefix: `${this.opts.prefix}bull`,
        concurrency: this.opts.concurrency ?? 1,
        lockDuration: lockMs,
        stalledInterval: Math.max(500, Math.floor(lockMs / 2)),
        // A job stalls only when its instance died: take it up however often that happens.
        maxStalledCount: 1_000,
        ...(rate > 0 ? { limiter: { max: rate, duration: 60_000 } } : {}),
      },
    );
    this.worker.on("error", (err) => this.opts.logger.warn({ err: err.message }, "job worker error"));
    this.worker.on("failed", (job, err) => {
      if (!(err instanceof WaitingError)) this.opts.logger.error({ job: job?.id, err: err.message }, "job run failed");
    });
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.worker?.close();
    await this.queue.close();
    await this.connection.quit().catch(() => this.connection.disconnect());
  }
}
