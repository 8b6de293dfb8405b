/**
 * Job slots held by Gradio jobs that came through the passthrough. A join takes a slot of its
 * backend (the same slots the REST API's jobs take, so both share one cap per box); the slot is
 * freed when the job's event stream says it completed, when that stream ends (Gradio drops a
 * session's jobs when its client goes away), or, for a job whose client never opened a stream,
 * after a grace period. A slot can never leak past `maxHoldMs`.
 */
import type { Logger } from "pino";

interface Job {
  eventId: string;
  session: string | undefined;
  backend: string;
  joinedAt: number;
  release: () => void;
  timer: NodeJS.Timeout;
  attached: boolean;
}

/** Options of {@link PassthroughJobs}. */
export interface PassthroughJobsOptions {
  logger: Logger;
  /** A job no event stream reported within this long is taken as abandoned. @default 60_000 @unit milliseconds */
  attachWithinMs?: number;
  /** A slot is freed after this long whatever the streams say. @default 3_600_000 @unit milliseconds */
  maxHoldMs?: number;
}

/** What one event stream saw, to free the right slots when it ends. */
export interface StreamWatch {
  readonly startedAt: number;
  readonly seen: Set<string>;
}

/**
 * @example
 * jobs.started({ eventId, session, backend: url, release });
 * jobs.completed(eventId); // from the stream's process_completed
 */
export class PassthroughJobs {
  private readonly byEvent = new Map<string, Job>();
  constructor(private readonly opts: PassthroughJobsOptions) {}

  /** Jobs holding a slot now. */
  get size(): number {
    return this.byEvent.size;
  }

  started(j: { eventId: string; session: string | undefined; backend: string; release: () => void }): void {
    const prior = this.byEvent.get(j.eventId);
    if (prior) this.free(prior, "duplicate event id");
    const job: Job = {
      ...j,
      joinedAt: Date.now(),
      attached: false,
      timer: setTimeout(() => this.abandon(j.eventId), this.opts.attachWithinMs ?? 60_000),
    };
    job.timer.unref();
    this.byEvent.set(j.eventId, job);
  }

  /** An event stream mentioned the job: it is followed, so only the stream decides its end. */
  seen(eventId: string, watch: StreamWatch): void {
    watch.seen.add(eventId);
    const job = this.byEvent.get(eventId);
    if (!job || job.attached) return;
    job.attached = true;
    clearTimeout(job.timer);
    job.timer = setTimeout(() => this.free(job, "held too long"), this.opts.maxHoldMs ?? 3_600_000);
    job.timer.unref();
  }

  completed(eventId: string): void {
    const job = this.byEvent.get(eventId);
    if (job) this.free(job, undefined);
  }

  /** A stream of `session` on `backend` opened. */
  watch(): StreamWatch {
    return { startedAt: Date.now(), seen: new Set() };
  }

  /**
   * A session's stream ended: its jobs that the stream followed, and those joined before it
   * opened, are over (completed, or dropped by Gradio with the stream).
   */
  streamEnded(session: string | undefined, backend: string, watch: StreamWatch): void {
    for (const job of [...this.byEvent.values()]) {
      if (job.backend !== backend) continue;
      if (watch.seen.has(job.eventId) || (session !== undefined && job.session === session && job.joinedAt <= watch.startedAt)) this.free(job, undefined);
    }
  }

  private abandon(eventId: string): void {
    const job = this.byEvent.get(eventId);
    if (job && !job.attached) this.free(job, "no event stream followed the job");
  }

  private free(job: Job, why: string | undefined): void {
    clearTimeout(job.timer);
    if (this.byEvent.get(job.eventId) === job) this.byEvent.delete(job.eventId);
    if (why) this.opts.logger.debug({ eventId: job.eventId, backend: job.backend, why }, "passthrough job slot freed");
    job.release();
  }

  close(): void {
    for (const job of [...this.byEvent.values()]) this.free(job, undefined);
  }
}
