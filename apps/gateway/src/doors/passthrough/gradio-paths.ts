/**
 * What a request to a Gradio app is, from its method and path alone: which requests start work
 * (and so count against a rate limit and take a job slot), and what each carries that ties it to
 * one backend (a session hash, an upload id, a server file path, an event id). Gradio 5 puts its
 * API under `/gradio_api/`; gradio 4 had the same paths at the root, so both are read.
 */

/** The kinds of Gradio request the passthrough treats differently. */
export type GradioRequestKind =
  | "join"
  | "queue-data"
  | "heartbeat"
  | "upload"
  | "upload-progress"
  | "file"
  | "stream"
  | "cancel"
  | "call"
  | "call-stream"
  | "run"
  | "event-input"
  | "other";

/** A classified Gradio request. */
export interface GradioRequest {
  kind: GradioRequestKind;
  /** Starts work on the GPU: counted by the rate limit, holds a job slot (`upload` counts but holds none). */
  work: boolean;
  /** The body is small JSON that names the session and the files (join, cancel, call, run). */
  readsBody: boolean;
  sessionHash?: string;
  uploadId?: string;
  /** A server path, for `file=` requests. */
  filePath?: string;
  eventId?: string;
}

const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;
const token = (s: string | null | undefined): string | undefined => (s != null && TOKEN.test(s) ? s : undefined);

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/**
 * Classifies one request by its method and the path below the route's prefix (no leading slash,
 * still percent-encoded, without the query).
 * @example
 * classifyGradio("POST", "gradio_api/queue/join", new URLSearchParams()) // { kind: "join", work: true, readsBody: true }
 * classifyGradio("GET", "gradio_api/heartbeat/abc123", q)              // { kind: "heartbeat", sessionHash: "abc123", work: false, ... }
 */
export function classifyGradio(method: string, path: string, query: URLSearchParams): GradioRequest {
  const p = path.startsWith("gradio_api/") ? path.slice("gradio_api/".length) : path;
  const post = method === "POST";
  const get = method === "GET" || method === "HEAD";
  const plain = (kind: GradioRequestKind, extra: Partial<GradioRequest> = {}): GradioRequest => ({ kind, work: false, readsBody: false, ...extra });

  if (post && (p === "queue/join" || p === "queue/join/")) return { kind: "join", work: true, readsBody: true };
  if (get && p === "queue/data") return plain("queue-data", withSession(query.get("session_hash")));
  if (get && p.startsWith("heartbeat/")) return plain("heartbeat", withSession(p.slice("heartbeat/".length)));
  if (post && (p === "upload" || p === "upload/")) {
    const uploadId = token(query.get("upload_id"));
    return { kind: "upload", work: true, readsBody: false, ...(uploadId ? { uploadId } : {}) };
  }
  if (get && p === "upload_progress") {
    const uploadId = token(query.get("upload_id"));
    return plain("upload-progress", uploadId ? { uploadId } : {});
  }
  if (get && (p.startsWith("file=") || p.startsWith("file/"))) {
    const filePath = decode(p.slice(5));
    return plain("file", filePath ? { filePath } : {});
  }
  if (p.startsWith("stream/")) {
    const parts = p.split("/");
    // GET stream/<session>/<run>/<component>/(playlist.m3u8|<segment>.<ext>|playlist-file)
    if (get && parts.length >= 5) return plain("stream", withSession(parts[1]));
    // POST stream/<event_id>[/close]: new input for a running streaming event.
    const eventId = token(parts[1]);
    if (post) return plain("event-input", eventId ? { eventId } : {});
  }
  if (post && (p === "cancel" || p === "cancel/")) return { kind: "cancel", work: false, readsBody: true };
  if (p.startsWith("call/")) {
    const parts = p.replace(/\/$/, "").split("/");
    if (post && parts.length === 2) return { kind: "call", work: true, readsBody: true };
    const eventId = token(parts[2]);
    if (get && parts.length === 3) return plain("call-stream", eventId ? { eventId } : {});
  }
  if (post && (/^(run|api)\/[^/]+\/?$/.test(p) || p === "run/predict")) return { kind: "run", work: true, readsBody: true };
  return plain("other");
}

function withSession(s: string | null | undefined): Partial<GradioRequest> {
  const sessionHash = token(s);
  return sessionHash ? { sessionHash } : {};
}

/** What a join/call/cancel body tells: its session and the server paths of the files it uses. */
export interface GradioBodyFacts {
  sessionHash?: string;
  eventId?: string;
  /** Server paths of files in `data` (Gradio FileData objects: `{ path, meta: { _type: "gradio.FileData" } }`). */
  files: string[];
}

/**
 * Reads a join, call, run or cancel body. Not a validation: Gradio validates; this only finds
 * what routes the request.
 * @example readGradioBody({ session_hash: "s1", data: [{ path: "/tmp/gradio/ab/p.wav", meta: { _type: "gradio.FileData" } }] })
 * // { sessionHash: "s1", files: ["/tmp/gradio/ab/p.wav"] }
 */
export function readGradioBody(body: unknown): GradioBodyFacts {
  const facts: GradioBodyFacts = { files: [] };
  if (typeof body !== "object" || body === null) return facts;
  const b = body as Record<string, unknown>;
  const s = typeof b["session_hash"] === "string" ? token(b["session_hash"]) : undefined;
  if (s) facts.sessionHash = s;
  const e = typeof b["event_id"] === "string" ? token(b["event_id"]) : undefined;
  if (e) facts.eventId = e;
  collectFiles(b["data"], facts.files, 0);
  return facts;
}

/**
 * Finds FileData paths anywhere in a value (inputs and outputs alike), at most 64 levels deep.
 * @example collectFiles([{ path: "/tmp/x.wav", meta: { _type: "gradio.FileData" } }], out, 0)
 */
export function collectFiles(v: unknown, out: string[], depth: number): void {
  if (depth > 64 || typeof v !== "object" || v === null) return;
  if (Array.isArray(v)) {
    for (const x of v) collectFiles(x, out, depth + 1);
    return;
  }
  const o = v as Record<string, unknown>;
  const meta = o["meta"] as Record<string, unknown> | undefined;
  if (typeof o["path"] === "string" && (meta?.["_type"] === "gradio.FileData" || "orig_name" in o || "url" in o)) out.push(o["path"]);
  for (const x of Object.values(o)) if (typeof x === "object") collectFiles(x, out, depth + 1);
}
