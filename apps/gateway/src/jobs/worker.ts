/**
 * Runs one narration job to its end, from wherever it stands: the segments already persisted
 * are skipped (never synthesized again), the others run `parallel` at a time through the
 * segment runner (background priority), each persisted the moment it finishes. Then the PCM is
 * joined, encoded once to the asked format, stored, and the job is marked succeeded (or failed,
 * or left canceled) and its webhook sent.
 */
import type { Logger } from "pino";
import type { Encoders } from "../service/encode/encoders.ts";
import { FORMATS } from "../service/encode/formats.ts";
import { newId } from "../platform/ids.ts";
import { toHttpProblem, problemType, PROBLEM_KINDS } from "../doors/problems.ts";
import type { AudioStore } from "../platform/stores/audio-store.ts";
import type { JobEvents } from "./events.ts";
import { FINISHED, type JobRecord } from "./model.ts";
import type { SegmentRunner } from "./segment-runner.ts";
import type { JobStore } from "./store.ts";
import { jobView } from "./view.ts";
import { pcmToWav } from "../service/encode/wav.ts";
import type { Webhooks } from "./webhooks.ts";

/** What {@link createJobWorker} is built from. */
export interface JobWorkerDeps {
  store: JobStore;
  runner: SegmentRunner;
  events: JobEvents;
  audio: AudioStore;
  encoders: Encoders;
  logger: Logger;
  /** Without one, callbackUrl is never set (refused at submit). */
  webhooks?: Webhooks;
  /** Segments of one job at once. */
  parallel: () => number;
  /** Attempts of a segment whose failure is not the input's. */
  segmentAttempts: number;
  /** How long a finished job is kept. @unit milliseconds */
  ttlMs: number;
  /** @default Date.now */
  now?: () => number;
}

/** The job ended here because this instance stops; another run (or instance) takes it up. */
export class JobInterruptedError extends Error {
  override name = "JobInterruptedError";
}

/** Runs jobs; see {@link createJobWorker}. */
export interface JobWorker {
  /**
   * Runs job `id` to its end. Rejects with {@link JobInterruptedError} when `signal` aborts
   * (shutdown): the job stays running in the store, to be taken up again.
   */
  run(id: string, signal: AbortSignal): Promise<void>;
  /** Sends the job's webhook if it is finished and its webhook still pending (after a restart). */
  notify(id: string): Promise<void>;
}

const SPEAKABLE = /[\p{L}\p{N}]/u;

/**
 * @example
 * const worker = createJobWorker({ store, runner, events, audio, encoders, logger, parallel: () => 2, segmentAttempts: 4, ttlMs: 86_400_000 });
 * await worker.run("j_...", shutdownSignal);
 */
export function createJobWorker(deps: JobWorkerDeps): JobWorker {
  const now = deps.now ?? Date.now;
  const { store, events, logger } = deps;
  /** Jobs running here, so a cancel from any instance reaches their segments. */
  const running = new Map<string, AbortController>();
  events.onCancel((id) => running.get(id)?.abort(new Error("canceled")));

  async function finish(job: JobRecord, patch: Partial<JobRecord>): Promise<JobRecord | undefined> {
    const finishedAt = now();
    const done = await store.update(
      job.id,
      { ...patch, finishedAt, expiresAt: finishedAt + deps.ttlMs, ...(job.request.callbackUrl && deps.webhooks ? { webhook: { state: "pending", attempts: 0 } } : {}) },
      { unlessFinished: true },
    );
    if (done) events.publish({ type: "status", id: job.id, status: done.status });
    return done;
  }

  async function notify(id: string): Promise<void> {
    const job = await store.get(id);
    if (!job || !FINISHED.has(job.status) || !job.request.callbackUrl || !deps.webhooks || job.webhook?.state !== "pending") return;
    const type = `job.${job.status}` as "job.succeeded" | "job.failed" | "job.canceled";
    const outcome = await deps.webhooks.deliver(job.request.callbackUrl, { type, jobId: job.id, data: jobView(job) });
    await store.update(id, { webhook: { state: outcome.delivered ? "delivered" : "failed", attempts: outcome.attempts } });
  }

  async function assemble(job: JobRecord, signal: AbortSignal): Promise<{ audioId: string; mimeType: string; bytes: number; durationMs: number }> {
    const segs = await store.segments(job.id);
    const parts: Uint8Array[] = [];
    let rate: number | undefined;
    let samples = 0;
    for (const s of segs) {
      const pcm = await store.readSegmentPcm(job.id, s.index);
      if (!pcm) throw new Error(`segment ${s.index}'s audio is missing`);
      if (pcm.byteLength === 0) continue;
      rate ??= s.sampleRate;
      if (s.sampleRate !== rate) throw new Error(`segment ${s.index} came at ${s.sampleRate} Hz, the others at ${rate} Hz`);
      parts.push(pcm);
      samples += pcm.byteLength / 2;
    }
    const sampleRate = rate ?? 24_000;
    const wav = pcmToWav(Buffer.concat(parts), sampleRate);
    const format = job.request.format;
    const bytes = format === "wav" ? wav : await deps.encoders.convert(wav, { from: "wav", to: format, sampleRate, signal });
    const audioId = newId("a_");
    const durationMs = (samples / sampleRate) * 1000;
    const meta = await deps.audio.put(
      { id: audioId, owner: job.owner, mimeType: FORMATS[format].mimeType, sampleRate: FORMATS[format].outputRate(sampleRate), durationMs: Math.round(durationMs) },
      bytes,
    );
    return { audioId, mimeType: meta.mimeType, bytes: meta.bytes, durationMs };
  }

  async function run(id: string, shutdown: AbortSignal): Promise<void> {
    const found = await store.get(id);
    if (!found) return;
    let job: JobRecord = found;
    if (FINISHED.has(job.status)) return notify(id);
    const ctl = new AbortController();
    running.set(id, ctl);
    const signal = AbortSignal.any([ctl.signal, shutdown]);
    try {
      if (job.status === "queued") {
        job = (await store.update(id, { status: "running", startedAt: now() }, { unlessFinished: true })) ?? job;
        if (FINISHED.has(job.status)) return;
        events.publish({ type: "status", id, status: "running" });
      }
      const done = new Set((await store.segments(id)).map((s) => s.index));
      const todo = job.segments.map((_, i) => i).filter((i) => !done.has(i));
      logger.info({ job: id, segments: job.segments.length, finished: done.size }, "job taken up");
      const total = job.segments.length;
      let count = done.size;
      const input = { owner: job.owner, voice: job.request.voice, mode: job.request.mode, instruct: job.request.instruct, speed: job.request.speed, seed: job.request.seed };
      let failure: unknown;
      const one = async (index: number) => {
        const seg = job.segments[index];
        if (!seg) return;
        for (let attempt = 1; ; attempt++) {
          if (signal.aborted) return;
          try {
            const speakable = SPEAKABLE.test(seg.speak.replace(/<\|[^|]*\|>/g, ""));
            const audio = speakable ? await deps.runner.run(input, seg.speak, signal) : { data: new Uint8Array(0), sampleRate: 24_000, durationMs: 0, backend: "none", synthMs: 0 };
            await store.putSegment(id, { index, sampleRate: audio.sampleRate, durationMs: audio.durationMs, backend: audio.backend, synthMs: audio.synthMs, finishedAt: now() }, audio.data);
            count++;
            events.publish({ type: "progress", id, done: count, total });
            return;
          } catch (err) {
            if (signal.aborted) return;
            if (attempt >= deps.segmentAttempts || !deps.runner.retryable(err)) throw err;
            logger.warn({ job: id, segment: index, attempt, err: (err as Error).message }, "segment failed; trying again");
            await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** (attempt - 1))));
          }
        }
      };
      // A small pool over the remaining segments, in order.
      let next = 0;
      const lanes = Array.from({ length: Math.max(1, Math.min(deps.parallel(), todo.length)) }, async () => {
        while (next < todo.length && failure === undefined && !signal.aborted) {
          const index = todo[next++] as number;
          await one(index).catch((err: unknown) => {
            failure ??= err;
            ctl.abort(err);
          });
        }
      });
      await Promise.all(lanes);
      if (shutdown.aborted && failure === undefined) throw new JobInterruptedError("the gateway is stopping; the job resumes from its last finished segment");
      if (ctl.signal.aborted && failure === undefined) return; // canceled: DELETE wrote the status
      if (failure !== undefined) {
        const p = toHttpProblem(failure);
        logger.warn({ job: id, err: (failure as Error).message }, "job failed");
        await finish(job, { status: "failed", error: { type: problemType(p.code), title: PROBLEM_KINDS[p.code].title, status: p.status, ...(p.detail !== undefined ? { detail: p.detail } : {}) } });
      } else {
        const output = await assemble(job, signal);
        await finish(job, { status: "succeeded", output });
        logger.info({ job: id, segments: total, durationMs: Math.round(output.durationMs) }, "job succeeded");
      }
      await notify(id);
    } finally {
      running.delete(id);
    }
  }

  return {
    run: async (id, signal) => {
      try {
        await run(id, signal);
      } catch (err) {
        if (err instanceof JobInterruptedError || signal.aborted) throw err instanceof JobInterruptedError ? err : new JobInterruptedError("the gateway is stopping");
        // Assembly or the store failed: the job fails (its segments stay; a retry would reuse them).
        const job = await store.get(id);
        if (job && !FINISHED.has(job.status)) {
          const p = toHttpProblem(err);
          logger.error({ job: id, err }, "job failed while finishing");
          await finish(job, { status: "failed", error: { type: problemType(p.code), title: PROBLEM_KINDS[p.code].title, status: p.status } });
          await notify(id);
        }
      }
    },
    notify,
  };
}
