/**
 * `cosyvoice narrate chapter.txt --voice Me --out chapter.mp3`: a long text as a narration job
 * on the gateway, a progress bar of its segments, then the audio (and captions) written.
 *
 * The wait can be resumed: once the gateway has accepted the job, its id is kept in
 * `<out>.job.json` beside the output; running the same command again (or after Ctrl-C, a
 * dropped connection, a gateway restart) follows that job instead of submitting a new one.
 * Ctrl-C stops waiting and leaves the job running; `--cancel` asks the gateway to cancel it.
 */
import { createHash } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { cancelJob, createJob, unwrap, waitForJob, type CosyVoiceClient, type CreateJobRequest, type Job } from "cosyvoice3-client";
import { CliError, EXIT } from "./exit-codes.ts";
import type { AudioOutput } from "./output.ts";
import type { ProgressReporter } from "./progress.ts";

/** The narration formats (the gateway's job formats). */
export const NARRATE_FORMATS = ["mp3", "opus", "aac", "flac", "wav"] as const;
export type NarrateFormat = (typeof NARRATE_FORMATS)[number];

/** What `narrate` was asked for. */
export interface NarrateInput {
  /** The text file (UTF-8). */
  file: string;
  /** A voice id (already resolved). */
  voice: string;
  format: NarrateFormat;
  mode?: CreateJobRequest["mode"];
  seed?: number;
  speed?: number;
  /** Where the audio goes (a file: the resume state lives beside it). */
  out: string;
  /** Also write captions here (`.srt` for SubRip, else WebVTT). */
  captions?: string;
  /** Follow this job instead of submitting (or of the saved one). */
  job?: string;
}

/** The resume state kept beside the output. */
interface Saved {
  job: string;
  gateway: string;
  /** sha256 of the text and the settings: another text never resumes this job. */
  key: string;
}

const stateFile = (out: string) => `${out}.job.json`;

/**
 * Submits (or resumes) the job, follows it to its end, writes its audio (and captions).
 * @example await narrate(api, gatewayUrl, input, out, { signal, progress });
 */
export async function narrate(
  api: CosyVoiceClient,
  gateway: string,
  input: NarrateInput,
  out: AudioOutput,
  ctx: { signal: AbortSignal; progress: ProgressReporter; cancelOnInterrupt: boolean },
): Promise<{ job: Job; resumed: boolean }> {
  const text = await readFile(input.file, "utf8");
  const request: CreateJobRequest = {
    text,
    voice: input.voice,
    format: input.format,
    ...(input.mode ? { mode: input.mode } : {}),
    ...(input.seed !== undefined ? { seed: input.seed } : {}),
    ...(input.speed !== undefined ? { speed: input.speed } : {}),
  };
  const key = createHash("sha256").update(JSON.stringify(request)).digest("hex");
  let id = input.job;
  let resumed = id !== undefined;
  if (id === undefined && input.out !== "-") {
    const saved = await readFile(stateFile(input.out), "utf8").then((s) => JSON.parse(s) as Saved, () => undefined);
    if (saved && saved.key === key && saved.gateway === gateway) {
      // Only a job the gateway still has, and that did not fail, is followed again.
      const { data, response } = await api.GET("/jobs/{id}", { params: { path: { id: saved.job } }, signal: ctx.signal });
      if (response.ok && data && data.status !== "failed" && data.status !== "canceled") {
        id = saved.job;
        resumed = true;
      }
    }
  }
  if (id === undefined) {
    ctx.progress.update({ kind: "waiting", detail: `submitting ${text.length} characters to ${gateway}` });
    const accepted = await createJob(api, request, { signal: ctx.signal });
    id = accepted.id;
    if (input.out !== "-") await writeFile(stateFile(input.out), JSON.stringify({ job: id, gateway, key } satisfies Saved));
  }
  const jobId = id;
  ctx.progress.update({ kind: "waiting", detail: `${resumed ? "resuming" : "following"} job ${jobId}` });
  let job: Job;
  try {
    job = await waitForJob(api, jobId, {
      signal: ctx.signal,
      onProgress: (j) => ctx.progress.update({ kind: "segments", done: j.segments.done, total: j.segments.total, status: j.status }),
    });
  } catch (err) {
    if (ctx.signal.aborted && ctx.cancelOnInterrupt) await cancelJob(api, jobId).catch(() => undefined);
    if (ctx.signal.aborted && !ctx.cancelOnInterrupt) {
      throw new CliError(`stopped waiting; job ${jobId} goes on: run the same command again to resume (or --job ${jobId})`, EXIT.interrupted, { cause: err });
    }
    throw err;
  }
  if (job.status !== "succeeded" || !job.audioUrl) {
    if (input.out !== "-") await rm(stateFile(input.out), { force: true });
    const why = job.error ? `${job.error.title}${job.error.detail ? `: ${job.error.detail}` : ""}` : job.status;
    throw new CliError(`job ${jobId} ${job.status}: ${why}`, job.status === "canceled" ? EXIT.interrupted : EXIT.upstream);
  }
  ctx.progress.update({ kind: "waiting", detail: `downloading ${job.audioUrl}` });
  const res = await api.GET("/audio/{id}", { params: { path: { id: job.audioUrl.replace(/^\/audio\//, "") } }, parseAs: "stream", signal: ctx.signal });
  const body = unwrap(res);
  if (!body) throw new CliError(`the gateway sent no audio for ${job.audioUrl}`, EXIT.upstream);
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) await out.write(r.value);
  if (input.captions !== undefined && job.captionsUrl) {
    const srt = input.captions.toLowerCase().endsWith(".srt");
    const captions = await api.GET("/jobs/{id}/captions", { params: { path: { id: jobId }, query: { format: srt ? "srt" : "vtt" } }, parseAs: "text", signal: ctx.signal });
    await writeFile(input.captions, unwrap(captions) as string);
  }
  return { job, resumed };
}

/** Removes the resume state once the audio is written. */
export async function forgetJob(out: string): Promise<void> {
  if (out !== "-") await rm(stateFile(out), { force: true });
}
