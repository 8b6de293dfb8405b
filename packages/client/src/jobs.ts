/**
 * Helpers for narration jobs (`/jobs`): submit, follow to the end over SSE (reconnecting after a
 * dropped connection, so a wait can be resumed at any time with the job id alone), cancel.
 */
import type { CosyVoiceClient } from "./client.ts";
import { unwrap } from "./client.ts";
import { ApiError, fetchFailure } from "./errors.ts";
import type { CreateJobRequest, Job, JobAccepted } from "./types.ts";

/** Options of {@link waitForJob}. */
export interface WaitOptions {
  /** Stops waiting (the job goes on). */
  signal?: AbortSignal;
  /** Called with the job on every progress event (and once at the start). */
  onProgress?: (job: Job) => void;
  /** Wait before reconnecting after the event stream dropped. @default 1_000 @unit milliseconds */
  reconnectMs?: number;
}

const FINISHED = new Set(["succeeded", "failed", "canceled"]);

/** Parses one `text/event-stream` body into its events (`event` and `data` fields only). */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "message";
  let data: string[] = [];
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.search(/\r?\n/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer[nl] === "\r" ? 2 : 1));
        if (line === "") {
          if (data.length > 0) yield { event, data: data.join("\n") };
          event = "message";
          data = [];
        } else if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * Submits a narration job (`POST /jobs`); refused at once (an `ApiError`) when it cannot work.
 * @example const job = await createJob(api, { text: chapter, voice: "v_...", format: "mp3" });
 */
export async function createJob(api: CosyVoiceClient, request: CreateJobRequest, options: { signal?: AbortSignal } = {}): Promise<JobAccepted> {
  return unwrap(await api.POST("/jobs", { body: request, ...(options.signal ? { signal: options.signal } : {}) }));
}

/**
 * Follows a job to its end over `GET /jobs/{id}/events` and resolves with the finished job
 * (succeeded, failed or canceled: check `status`). A dropped stream (gateway restart, network)
 * is reopened after `reconnectMs`; the job's state comes again first, so nothing is missed.
 * @throws ApiError (404: no such job for this key), ApiUserAbortError
 * @example const done = await waitForJob(api, job.id, { onProgress: (j) => bar.update(j.segments.done / j.segments.total) });
 */
export async function waitForJob(api: CosyVoiceClient, id: string, options: WaitOptions = {}): Promise<Job> {
  for (;;) {
    try {
      const result = await api.GET("/jobs/{id}/events", {
        params: { path: { id } },
        parseAs: "stream",
        headers: { Accept: "text/event-stream" },
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (!result.response.ok) throw unwrapError(result);
      const body = result.data as ReadableStream<Uint8Array> | undefined;
      if (body) {
        for await (const e of sseEvents(body)) {
          const job = JSON.parse(e.data) as Job;
          options.onProgress?.(job);
          if (e.event === "end" || FINISHED.has(job.status)) return job;
        }
      }
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) throw err;
      const failure = fetchFailure(err, options.signal);
      if (options.signal?.aborted) throw failure;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, options.reconnectMs ?? 1_000);
      options.signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
    });
  }
}

function unwrapError(result: { response: Response; error?: unknown }): unknown {
  try {
    unwrap(result);
  } catch (err) {
    return err;
  }
  return new Error(`unexpected ${result.response.status}`);
}

/**
 * Cancels a queued or running job (its running segments are cancelled on the backend), or
 * deletes a finished one; resolves with the canceled job, or undefined once deleted.
 * @example await cancelJob(api, job.id);
 */
export async function cancelJob(api: CosyVoiceClient, id: string): Promise<Job | undefined> {
  const result = await api.DELETE("/jobs/{id}", { params: { path: { id } } });
  if (result.response.status === 204) return undefined;
  return unwrap(result) as Job;
}

/**
 * Submits a job and waits for it: the whole narration in one call.
 * @example
 * const job = await narrate(api, { text: chapter, voice: "v_..." }, { onProgress: (j) => console.log(j.segments) });
 * if (job.status === "succeeded") await download(job.audioUrl);
 */
export async function narrate(api: CosyVoiceClient, request: CreateJobRequest, options: WaitOptions = {}): Promise<Job> {
  const accepted = await createJob(api, request, options.signal ? { signal: options.signal } : {});
  return waitForJob(api, accepted.id, options);
}
