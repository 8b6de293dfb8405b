/**
 * The Gradio side of one job, on top of @gradio/client (see `gradio-session.ts` for the session
 * and the details it relies on): typed errors from queue/status/log events, and a real cancel on
 * abort or timeout.
 */
import {
  ConnectionError,
  QueueFullError,
  UpstreamError,
  UpstreamWarningError,
  type CosyVoiceError,
} from "../errors.ts";
import { SessionClient, type GradioContext } from "./gradio-session.ts";
import { sleep } from "./retry.ts";
import { raceAbort, type CallScope } from "./scope.ts";

export type { GradioContext } from "./gradio-session.ts";

/** How long a queued job's cleanup waits between closing its stream and POST /cancel (runJob). */
const QUEUED_CANCEL_PAUSE_MS = 100;

/** POST /cancel for this session's job; the UI stops the generator and completes the event. */
async function cancelJob(ctx: GradioContext, sessionHash: string, eventId: string, fnIndex: number): Promise<void> {
  // Not the job's own `cancel()`: it also resets, has no timeout and logs to the console on failure.
  const res = await ctx.fetch(`${ctx.baseUrl}${ctx.apiPrefix}/cancel`, {
    method: "POST",
    headers: { ...ctx.headers, "Content-Type": "application/json" },
    body: JSON.stringify({ session_hash: sessionHash, fn_index: fnIndex, event_id: eventId }),
    signal: AbortSignal.timeout(2_000),
  });
  await res.body?.cancel();
}

/** The streaming Audio output as Gradio reports it in each data event. */
export interface OutputFile {
  path: string;
  url?: string | null;
  is_stream?: boolean;
}

export interface JobHooks {
  onQueued?: (q: { position: number; queueSize: number; etaMs?: number }) => void;
  onStarted?: () => void;
  /** Awaited in order for each data event (every yield, and once more at completion). */
  onOutput?: (file: OutputFile) => Promise<void>;
  /** The delay a QueueFullError should suggest. @unit milliseconds */
  retryAfterMs: () => number;
}

export interface JobResult {
  eventId: string;
  /** The last output file reference (null if the UI produced none). */
  file: OutputFile | null;
  /** Number of `process_generating` events: one per model yield. */
  generated: number;
}

interface StatusEvent {
  type: "status";
  stage: string;
  message?: unknown;
  title?: string;
  broken?: boolean;
  position?: number;
  size?: number;
  eta?: number | null;
  original_msg?: string;
}
interface LogEvent {
  type: "log";
  log: string;
  level: string;
  title?: string;
}
interface DataEvent {
  type: "data";
  data: unknown[];
}
type JobEvent = StatusEvent | LogEvent | DataEvent | { type: string };

/** Bounded wait: resolves after `ms` at the latest and clears its timer either way. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function asOutputFile(v: unknown): OutputFile | null {
  if (typeof v !== "object" || v === null) return null;
  const path = (v as { path?: unknown }).path;
  return typeof path === "string" ? (v as OutputFile) : null;
}

/** Turns a Gradio `status: error` into the SDK error, marking the ones raised before acceptance. */
function classify(ev: StatusEvent, client: SessionClient, eventId: string, hooks: JobHooks): CosyVoiceError {
  const message = typeof ev.message === "string" ? ev.message : JSON.stringify(ev.message ?? null);
  if (!eventId) {
    // Before the job has an id the session's only request is the join: its answer is the last one.
    const join = client.lastAnswer;
    if (join?.status === 503) {
      const header = Number(join.retryAfter);
      const retryAfterMs = Number.isFinite(header) && header > 0 ? header * 1000 : hooks.retryAfterMs();
      return new QueueFullError(retryAfterMs, { cause: new Error(message) });
    }
    if (ev.broken || join === undefined) {
      return new ConnectionError(`Could not reach the CosyVoice web UI at ${client.app_reference}`, {
        cause: client.lastFetchError ?? new Error(message),
        accepted: false,
      });
    }
    return new UpstreamError(`The web UI refused the job (HTTP ${join.status}): ${message}`, message);
  }
  if (ev.broken || /server stopped/i.test(message)) {
    return new ConnectionError(`The CosyVoice web UI went away mid-job: ${message}`, { cause: client.lastFetchError });
  }
  const hidden = message === "An error occurred" || message === "null";
  return new UpstreamError(
    hidden ? "The CosyVoice web UI failed the job (the UI hides the Python error)" : `The CosyVoice web UI failed the job: ${message}`,
    hidden ? `${ev.title ?? "Error"}: no detail (the UI runs without show_error)` : message,
  );
}

/**
 * Runs one job on a fresh session and follows it to completion. On any failure, abort or
 * timeout it cancels the job for real and leaves no stream or listener behind: a running job by
 * POST /cancel, then closing the session's stream; a job still waiting in the queue by closing
 * the stream first (the disconnect is what dequeues it), then POST /cancel.
 */
export async function runJob(
  ctx: GradioContext,
  endpoint: string,
  fnIndex: number,
  data: unknown[],
  scope: CallScope,
  hooks: JobHooks,
): Promise<JobResult> {
  const client = new SessionClient(ctx);
  let rejectBroken: (e: Error) => void = () => undefined;
  const broken = new Promise<never>((_, reject) => {
    rejectBroken = reject;
  });
  broken.catch(() => undefined);
  client.onBroken = (cause) => rejectBroken(new ConnectionError("The connection to the CosyVoice web UI broke mid-job", { cause }));

  const job = client.submit(endpoint, data);
  const it = job[Symbol.asyncIterator]();
  let completed = false;
  let started = false;
  let generated = 0;
  let file: OutputFile | null = null;
  try {
    for (;;) {
      const r = await raceAbort(Promise.race([it.next(), broken]), scope.signal);
      if (r.done) break;
      const ev = r.value as JobEvent;
      if (ev.type === "log") {
        const log = ev as LogEvent;
        if (log.level === "warning") throw new UpstreamWarningError(log.log);
        ctx.logger.debug?.({ level: log.level, log: log.log }, "CosyVoice UI message");
      } else if (ev.type === "status") {
        const st = ev as StatusEvent;
        if (st.stage === "error") throw classify(st, client, job.event_id(), hooks);
        if (st.stage === "complete") completed = true;
        else if (st.stage === "generating") {
          generated++;
          if (!started) {
            started = true;
            hooks.onStarted?.();
          }
        } else if (st.stage === "pending") {
          if (st.original_msg === "process_starts") {
            if (!started) {
              started = true;
              hooks.onStarted?.();
            }
          } else if (typeof st.position === "number" && !started) {
            const q: { position: number; queueSize: number; etaMs?: number } = {
              position: st.position,
              queueSize: st.size ?? st.position + 1,
            };
            if (typeof st.eta === "number") q.etaMs = Math.round(st.eta * 1000);
            hooks.onQueued?.(q);
          }
        }
      } else if (ev.type === "data") {
        const out = asOutputFile((ev as DataEvent).data?.[0]);
        if (out) {
          file = out;
          if (hooks.onOutput) await raceAbort(hooks.onOutput(out), scope.signal);
        }
      }
    }
    if (!completed) throw new UpstreamError("The CosyVoice web UI ended the job without completing it");
    return { eventId: job.event_id(), file, generated };
  } finally {
    const cleanup = (async () => {
      if (!completed) {
        // A join still in flight may yet be accepted: wait (bounded) for its id so it can be cancelled.
        const id = job.event_id() || (await within(job.wait_for_id(), 2_000)) || "";
        if (!started) {
          // A job still waiting in the queue leaves it only when the UI sees its session's stream
          // go (`clean_events` on the disconnect): POST /cancel does not dequeue it in gradio 5,
          // and the completion it sends ends that stream cleanly, so the job ran later anyway when
          // the cancel won the race. So the stream goes first; the cancel still covers a job that
          // started meanwhile. The pause is two of the stream loop's 50 ms polls.
          client.close();
          await sleep(QUEUED_CANCEL_PAUSE_MS);
        }
        if (id) await cancelJob(ctx, client.session_hash, id, fnIndex);
      }
    })()
      .catch((e: unknown) => ctx.logger.debug?.({ err: String(e) }, "cancel failed"))
      .finally(() => {
        client.close();
        void it.return?.();
      });
    // Reject promptly even if the UI is slow to answer the cancel; the cleanup finishes on its own.
    await within(cleanup, 500);
  }
}

/** Uploads one file through Gradio's upload route; returns the server path. */
export async function uploadFile(ctx: GradioContext, file: File, signal: AbortSignal): Promise<string> {
  // A session of its own whose every request ends with the call.
  const client = new SessionClient(ctx, signal);
  let res: { files?: string[]; error?: string };
  try {
    res = await client.upload_files(ctx.baseUrl, [file]);
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    throw new ConnectionError(`Could not upload the prompt audio to ${ctx.baseUrl}`, { cause: client.lastFetchError ?? e, accepted: false });
  } finally {
    client.close();
  }
  const path = res.files?.[0];
  if (res.error || typeof path !== "string") {
    throw new UpstreamError("The CosyVoice web UI refused the prompt upload", res.error ?? "no file path returned");
  }
  return path;
}

/** True when the server still serves an uploaded file (HEAD on `/file=`). */
export async function serverHasFile(ctx: GradioContext, path: string, signal: AbortSignal): Promise<boolean> {
  try {
    const res = await ctx.fetch(`${ctx.baseUrl}${ctx.apiPrefix}/file=${path}`, { method: "HEAD", headers: ctx.headers, signal });
    await res.body?.cancel();
    return res.ok;
  } catch {
    if (signal.aborted) throw signal.reason;
    // Unreachable now: the upload that follows reports the connection problem properly.
    return false;
  }
}

/** The output's URL on the caller's base URL (Gradio builds it from its own idea of its root). */
export function outputUrl(ctx: GradioContext, file: OutputFile, suffix?: "playlist-file"): string {
  const base = new URL(ctx.baseUrl);
  const u = file.url ? new URL(file.url, `${ctx.baseUrl}/`) : new URL(`${ctx.baseUrl}${ctx.apiPrefix}/stream/${file.path}`);
  let pathname = u.pathname;
  if (suffix) pathname = pathname.replace(/playlist\.m3u8$/, suffix);
  return `${base.origin}${pathname}${u.search}`;
}
