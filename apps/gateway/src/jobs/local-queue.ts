/**
 * The embedded job queue: jobs run in this process, `concurrency` at a time, in the order they
 * came. Durable without a queue of its own: the disk job store holds every job and its finished
 * segments, so on start the queued and running jobs are taken up again (running ones from their
 * last finished segment), and finished jobs whose webhook was not yet delivered send it.
 *
 * Why not launch a redis-server for `npm start`: one process and one folder is what the embedded
 * default promises (no second daemon to install, supervise, and kill with it), and the durability
 * a job needs is exactly what the store already writes per segment.
 */
import type { Logger } from "pino";
import type { JobQueue } from "./queue.ts";
import type { JobStore } from "./store.ts";
import { JobInterruptedError, type JobWorker } from "./worker.ts";

/** Options of {@link LocalJobQueue}. */
export interface LocalJobQueueOptions {
  store: JobStore;
  worker: JobWorker;
  /** Jobs running at once. @default 1 */
  concurrency?: number;
  logger: Logger;
}

/**
 * @example
 * const queue = new LocalJobQueue({ store, worker, concurrency: 1, logger });
 * await queue.start(); await queue.add(job.id);
 */
export class LocalJobQueue implements JobQueue {
  private readonly waiting: string[] = [];
  private readonly active = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private started = false;

  constructor(private readonly opts: LocalJobQueueOptions) {}

  async add(id: string): Promise<void> {
    if (!this.waiting.includes(id)) this.waiting.push(id);
    this.pump();
  }

  async remove(id: string): Promise<void> {
    const i = this.waiting.indexOf(id);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const unfinished = await this.opts.store.unfinished();
    if (unfinished.length > 0) this.opts.logger.info({ jobs: unfinished.length }, "taking up unfinished jobs");
    for (const id of unfinished) await this.add(id);
    // Webhooks a stop cut short.
    const { jobs } = await this.opts.store.list(undefined, { limit: Number.MAX_SAFE_INTEGER });
    for (const j of jobs) if (j.webhook?.state === "pending") void this.opts.worker.notify(j.id);
    this.pump();
  }

  private pump(): void {
    if (!this.started) return;
    while (!this.stop.signal.aborted && this.active.size < (this.opts.concurrency ?? 1) && this.waiting.length > 0) {
      const id = this.waiting.shift() as string;
      const run: Promise<void> = this.opts.worker
        .run(id, this.stop.signal)
        .catch((err: unknown) => {
          if (!(err instanceof JobInterruptedError)) this.opts.logger.error({ job: id, err }, "job run failed");
        })
        .finally(() => {
          this.active.delete(run);
          this.pump();
        });
      this.active.add(run);
    }
  }

  async close(): Promise<void> {
    this.stop.abort();
    await Promise.all(this.active);
  }
}
