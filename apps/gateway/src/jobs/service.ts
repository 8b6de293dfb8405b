/**
 * Narration jobs, as the doors use them: submit (every check that would fail the whole job is
 * made here, before anything is queued), read, list, cancel or delete, captions, and the events
 * of one job. Queue, worker and store are behind it.
 */
import type { Instruct, Mode } from "cosyvoice3-sdk";
import { SynthesisInputError } from "../service/errors.ts";
import { newId } from "../platform/ids.ts";
import { mayAccess, type Caller } from "../service/owners.ts";
import { cuesOf, toSrt, toWebVtt } from "./captions.ts";
import { JobNotFinishedError, JobNotFoundError, JobQuotaError } from "./errors.ts";
import type { JobEvents } from "./events.ts";
import { FINISHED, type JobFormat, type JobRecord } from "./model.ts";
import type { JobQueue } from "./queue.ts";
import type { SegmentRunner } from "./segment-runner.ts";
import { splitIntoSegments } from "./splitter.ts";
import type { JobPage, JobStore } from "./store.ts";
import { callbackUrlProblem } from "./webhooks.ts";
import type { JobWorker } from "./worker.ts";

/** What a caller submits. */
export interface NewJob {
  text: string;
  voice: string;
  mode?: Mode | undefined;
  instruct?: Instruct | undefined;
  speed?: number | undefined;
  seed?: number | undefined;
  format?: JobFormat | undefined;
  callbackUrl?: string | undefined;
}

/** What {@link createJobService} is built from. */
export interface JobServiceDeps {
  store: JobStore;
  queue: JobQueue;
  worker: JobWorker;
  runner: SegmentRunner;
  events: JobEvents;
  segmentChars: number;
  /** How long a finished (or canceled) job is kept. @unit milliseconds */
  ttlMs: number;
  quota: { segments: number; windowMs: number };
  webhooks: { enabled: boolean; allowPrivate: boolean };
  /** @default Date.now */
  now?: () => number;
}

/** The jobs of every owner; see {@link createJobService}. */
export interface JobService {
  /**
   * Checks and queues a job.
   * @throws VoiceNotFoundError, VoiceModeMismatchError, SynthesisInputError, UnsupportedModeError, JobQuotaError
   */
  submit(caller: Caller, job: NewJob, signal?: AbortSignal): Promise<JobRecord>;
  /** @throws JobNotFoundError (also for another owner's job) */
  get(caller: Caller, id: string): Promise<JobRecord>;
  list(caller: Caller, opts: { limit: number; cursor?: string }): Promise<JobPage>;
  /** Cancels a queued or running job (answers it, canceled) or deletes a finished one (answers undefined). */
  end(caller: Caller, id: string): Promise<JobRecord | undefined>;
  /** @throws JobNotFoundError, JobNotFinishedError */
  captions(caller: Caller, id: string, format: "vtt" | "srt"): Promise<string>;
  /** Each event of a job the caller may see. */
  follow: JobEvents["follow"];
}

/**
 * @example
 * const jobs = createJobService({ store, queue, worker, runner, events, segmentChars: 300, quota, webhooks });
 * const job = await jobs.submit(caller, { text, voice: "v_..." });
 */
export function createJobService(deps: JobServiceDeps): JobService {
  const now = deps.now ?? Date.now;
  const { store } = deps;

  async function get(caller: Caller, id: string): Promise<JobRecord> {
    const job = await store.get(id);
    if (!job || !mayAccess(caller, job.owner)) throw new JobNotFoundError(id);
    return job;
  }

  return {
    async submit(caller, body, signal) {
      if (body.callbackUrl !== undefined) {
        const why = deps.webhooks.enabled
          ? await callbackUrlProblem(body.callbackUrl, { allowPrivate: deps.webhooks.allowPrivate })
          : "callbackUrl needs WEBHOOK_SECRET set on the gateway (webhooks are signed)";
        if (why) throw new SynthesisInputError([{ path: ["callbackUrl"], message: why, code: "callback_url" }]);
      }
      const input = { owner: caller.owner, ...(caller.admin ? { admin: true } : {}), voice: body.voice, mode: body.mode, instruct: body.instruct, speed: body.speed, seed: body.seed };
      const { mode } = await deps.runner.check({ ...input, text: body.text }, signal);
      const segments = splitIntoSegments(body.text, { maxChars: deps.segmentChars });
      if (segments.length === 0) throw new SynthesisInputError([{ path: ["text"], message: "text has nothing to say", code: "too_small" }]);
      const spent = await store.spendSegments(caller.owner, segments.length, deps.quota.segments, deps.quota.windowMs);
      if (!spent.ok) throw new JobQuotaError(spent.retryAfterMs, segments.length, deps.quota.segments);
      const job: JobRecord = {
        id: newId("j_"),
        owner: caller.owner,
        status: "queued",
        createdAt: now(),
        request: {
          voice: body.voice,
          mode,
          ...(body.instruct !== undefined ? { instruct: body.instruct } : {}),
          ...(body.speed !== undefined ? { speed: body.speed } : {}),
          ...(body.seed !== undefined ? { seed: body.seed } : {}),
          format: body.format ?? "mp3",
          ...(body.callbackUrl !== undefined ? { callbackUrl: body.callbackUrl } : {}),
        },
        segments: segments.map((s) => ({ text: s.text, speak: s.speak, sentences: s.sentences.map((x) => ({ text: x.text, sentence: x.sentence })) })),
        done: 0,
      };
      await store.create(job);
      await deps.queue.add(job.id);
      return job;
    },
    get,
    list: (caller, opts) => store.list(caller.admin ? undefined : caller.owner, opts),
    async end(caller, id) {
      const job = await get(caller, id);
      if (FINISHED.has(job.status)) {
        await store.delete(id);
        return undefined;
      }
      const at = now();
      const canceled = await store.update(id, { status: "canceled", finishedAt: at, expiresAt: at + deps.ttlMs, ...(job.request.callbackUrl ? { webhook: { state: "pending", attempts: 0 } } : {}) }, { unlessFinished: true });
      // The instance running it (any) stops its segments; a queued one never starts.
      deps.events.cancel(id);
      await deps.queue.remove(id);
      if (canceled?.status === "canceled") {
        deps.events.publish({ type: "status", id, status: "canceled" });
        void deps.worker.notify(id);
      }
      return canceled ?? job;
    },
    async captions(caller, id, format) {
      const job = await get(caller, id);
      if (job.status !== "succeeded") throw new JobNotFinishedError(job.status);
      const done = await store.segments(id);
      const cues = cuesOf(job.segments.map((s, i) => ({ sentences: s.sentences, durationMs: done.find((d) => d.index === i)?.durationMs ?? 0 })));
      return format === "srt" ? toSrt(cues) : toWebVtt(cues);
    },
    follow: (id, fn) => deps.events.follow(id, fn),
  };
}
