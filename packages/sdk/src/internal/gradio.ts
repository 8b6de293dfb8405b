/**
 * The Gradio side of one job, on top of @gradio/client: one session per job (the queue's SSE
 * stream is shared by all jobs of a session, and cancelling one can break the others), typed
 * errors from queue/status/log events, and a real cancel on abort or timeout.
 */
import { randomBytes } from "node:crypto";
import * as gradio from "@gradio/client";
import {
  ConnectionError,
  QueueFullError,
  UpstreamError,
  UpstreamWarningError,
  type CosyVoiceError,
} from "../errors.ts";
import type { Logger } from "../types.ts";
import { openSse } from "./sse.ts";
import { raceAbort, type CallScope } from "./scope.ts";

/**
 * The parts of @gradio/client's `Client` the SDK uses. Its published .d.ts files import each
 * other without extensions, which NodeNext resolution cannot follow, so the shape is stated here.
 */
export interface GradioClient {
  app_reference: string;
  config: Record<string, unknown> | undefined;
  api_prefix: string;
  api_info: unknown;
  api_map: Record<string, number>;
  session_hash: string;
  closed: boolean;
  abort_controller: AbortController | null;
  stream_instance: EventSource | null;
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  stream(url: URL): EventSource;
  submit(endpoint: string | number, data: unknown[]): GradioJob;
  upload_files(root_url: string, files: (Blob | File)[]): Promise<{ files?: string[]; error?: string }>;
  close(): void;
}

/** @gradio/client's SubmitIterable, as far as the SDK uses it. */
export interface GradioJob extends AsyncIterable<unknown> {
  [Symbol.asyncIterator](): AsyncIterator<unknown> & { return?: () => Promise<IteratorResult<unknown>> };
  cancel(): Promise<void>;
  event_id(): string;
  wait_for_id(): Promise<string | null>;
}

const GradioClientBase = gradio.Client as unknown as new (
  appReference: string,
  options: { events: string[]; with_null_state: boolean; record_history: boolean },
) => GradioClient;

/** What every job of one connected client shares: fetched once by `connect`. */
export interface GradioContext {
  /** The URL the caller gave, without a trailing slash; every request goes here. */
  baseUrl: string;
  apiPrefix: string;
  config: Record<string, unknown>;
  apiInfo: unknown;
  apiMap: Record<string, number>;
  fetch: typeof fetch;
  headers: Record<string, string>;
  logger: Logger;
}

/** True when the error happened before the UI accepted the job (no event id): safe to retry. */
export function isUnaccepted(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { accepted?: unknown }).accepted === false;
}

/** Marks an error as raised before the UI accepted anything (its public `accepted` is false). */
export function markUnaccepted<E extends CosyVoiceError>(err: E): E {
  err.accepted = false;
  return err;
}

function newSessionHash(): string {
  return randomBytes(8).toString("hex");
}

/**
 * A @gradio/client Client that reuses the shared config and API info (no `/config` or `/info`
 * fetch per job), has its own session hash, sends every request through the injected fetch, and
 * reads the queue stream with {@link openSse}.
 */
export class SessionClient extends GradioClientBase {
  private readonly ctx: GradioContext;
  /** Status of the last `queue/join` answer (503 = queue full). */
  joinStatus: number | undefined;
  joinRetryAfter: string | null = null;
  /** The last error thrown by fetch, kept as the `cause` of connection errors. */
  lastFetchError: unknown;
  /** Applied to uploads, so an aborted call stops sending prompt bytes. */
  uploadSignal: AbortSignal | undefined;
  /** Called when the queue stream breaks mid-job. */
  onBroken: (cause: unknown) => void = () => undefined;

  constructor(ctx: GradioContext) {
    super(ctx.baseUrl, { events: ["data", "status", "log"], with_null_state: true, record_history: false });
    this.ctx = ctx;
    this.config = ctx.config;
    this.api_info = ctx.apiInfo;
    this.api_map = ctx.apiMap;
    this.api_prefix = ctx.apiPrefix;
    this.session_hash = newSessionHash();
  }

  override async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const headers = new Headers(init?.headers);
    for (const [k, v] of Object.entries(this.ctx.headers)) headers.set(k, v);
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const isUpload = url.includes(`${this.api_prefix}/upload`);
    const signal = init?.signal ?? (isUpload ? this.uploadSignal : undefined);
    try {
      const res = await this.ctx.fetch(input, { ...init, headers, ...(signal ? { signal } : {}) });
      if (url.includes(`${this.api_prefix}/queue/join`)) {
        this.joinStatus = res.status;
        this.joinRetryAfter = res.headers.get("retry-after");
      }
      return res;
    } catch (e) {
      this.lastFetchError = e;
      throw e;
    }
  }

  override stream(url: URL): EventSource {
    this.abort_controller = new AbortController();
    // After close() a late open_stream (join answered after the call gave up) must not open anything.
    if (this.closed) this.abort_controller.abort();
    const src = openSse(url.href, {
      fetch: this.ctx.fetch,
      headers: this.ctx.headers,
      signal: this.abort_controller.signal,
      onBroken: (cause) => this.onBroken(cause),
    });
    this.stream_instance = src as unknown as EventSource;
    return this.stream_instance;
  }

  /** POST /cancel for this session's job; the UI stops the generator and completes the event. */
  async cancelJob(eventId: string, fnIndex: number): Promise<void> {
    const res = await this.ctx.fetch(`${this.ctx.baseUrl}${this.api_prefix}/cancel`, {
      method: "POST",
      headers: { ...this.ctx.headers, "Content-Type": "application/json" },
      body: JSON.stringify({ session_hash: this.session_hash, fn_index: fnIndex, event_id: eventId }),
      signal: AbortSignal.timeout(2_000),
    });
    await res.body?.cancel();
  }
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
    if (client.joinStatus === 503) {
      const header = Number(client.joinRetryAfter);
      const retryAfterMs = Number.isFinite(header) && header > 0 ? header * 1000 : hooks.retryAfterMs();
      return markUnaccepted(new QueueFullError(retryAfterMs, { cause: new Error(message) }));
    }
    if (ev.broken || client.joinStatus === undefined) {
      return markUnaccepted(
        new ConnectionError(`Could not reach the CosyVoice web UI at ${client.app_reference}`, {
          cause: client.lastFetchError ?? new Error(message),
        }),
      );
    }
    return new UpstreamError(`The web UI refused the job (HTTP ${client.joinStatus}): ${message}`, message);
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
 * timeout it cancels the job for real (POST /cancel, then closes the session's stream, which
 * also removes a job still waiting in the queue) and leaves no stream or listener behind.
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
        if (id) await client.cancelJob(id, fnIndex);
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
  const client = new SessionClient(ctx);
  client.uploadSignal = signal;
  let res: { files?: string[]; error?: string };
  try {
    res = await client.upload_files(ctx.baseUrl, [file]);
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    throw markUnaccepted(new ConnectionError(`Could not upload the prompt audio to ${ctx.baseUrl}`, { cause: client.lastFetchError ?? e }));
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
