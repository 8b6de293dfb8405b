/**
 * RFC 9457 problem details. Every error kind, the SDK's (keyed by its stable `code`) and the
 * gateway's own, declares its status, its `type` and what it may tell the client in one table;
 * the error handler looks the kind up, it never branches on classes.
 */
import { CosyVoiceError, type CosyVoiceErrorCode } from "cosyvoice3-sdk";
import { GatewayError, type GatewayErrorCode, type InputIssue } from "../service/errors.ts";
import { boxKindOf, titleForCode } from "../backends/registry/services.ts";

/** Prefix of every problem `type`: a URN, stable and not meant to be dereferenced. */
export const PROBLEM_TYPE_PREFIX = "urn:cosyvoice3-gateway:problem:";

/** One field-level problem: a JSON pointer into the request and what is wrong there. */
export interface ProblemFieldError {
  pointer: string;
  detail: string;
  code?: string;
}

/** The body of every error response. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  requestId?: string;
  errors?: ProblemFieldError[];
  retryAfterSeconds?: number;
}

interface ProblemKind {
  status: number;
  slug: string;
  title: string;
  /** When this kind is documented to happen (README and OpenAPI). */
  when: string;
  /**
   * For the kinds no error class stands behind (a refusal at the door): nothing ran, so the
   * same request may be sent again. Error classes declare it themselves (`faultOf`).
   */
  resendable?: true;
  /** The steps of an operation in which this kind can arise (the OpenAPI document lists it there). */
  during?: readonly ProblemStep[];
}

/**
 * The steps an operation goes through, each a source of problems: an operation's documented
 * problems are those of its steps, so a kind is declared once, with the steps it arises in.
 */
export type ProblemStep =
  | "auth" // a key or token is checked
  | "scoped" // the route needs a scope (write, synthesize)
  | "quota" // the request counts against a rate limit
  | "store" // the voice or audio store is read or written
  | "params" // path, query or body fields are validated
  | "json" // a JSON body is parsed
  | "body" // a body is read under a size cap and a content type
  | "upload" // prompt audio is uploaded and inspected
  | "negotiation" // the answer's format comes from Accept
  | "voice-id" // a voice id is looked up
  | "voice-delete" // a voice is deleted
  | "audio-id" // a stored clip is read (with Range)
  | "backend-speakers" // a box is asked for its built-in speakers
  | "synthesis" // a job runs on a box
  | "readiness" // the boxes' readiness is answered
  | "job-submit" // a narration job is checked and queued
  | "job-id" // a narration job is looked up
  | "job-output"; // a finished job's outputs are read

/** The gateway's own error kinds. */
export type GatewayProblemCode =
  | "invalid_request"
  | "malformed_json"
  | "malformed_request"
  | "request_timeout"
  | "headers_too_large"
  | "unauthorized"
  | "forbidden"
  | "auth_unavailable"
  | "not_found"
  | "voice_not_found"
  | "consent_not_found"
  | "consent_not_heard"
  | "asr_unavailable"
  | "audio_not_found"
  | "voice_read_only"
  | "method_not_allowed"
  | "not_acceptable"
  | "payload_too_large"
  | "unsupported_media_type"
  | "not_audio"
  | "invalid_audio"
  | "voice_mode_mismatch"
  | "range_not_satisfiable"
  | "rate_limited"
  | "busy"
  | "breaker_open"
  | "deadline_exceeded"
  | "shutting_down"
  | "not_ready"
  | "store_unavailable"
  | "internal";

export type ProblemCode = GatewayProblemCode | GatewayErrorCode | CosyVoiceErrorCode;

/** The table: each kind's status, type and title. */
export const PROBLEM_KINDS: Record<ProblemCode, ProblemKind> = {
  invalid_request: { status: 400, slug: "invalid-request", title: "The request is invalid", when: "a body, query or path field fails validation (see errors[])", during: ["params"] },
  malformed_json: { status: 400, slug: "malformed-json", title: "The body is not valid JSON", when: "the JSON body does not parse", during: ["json"] },
  malformed_request: { status: 400, slug: "malformed-request", title: "The HTTP request is malformed", when: "the HTTP parser refused the request before routing: a malformed request line or header, an unknown method, Content-Length together with Transfer-Encoding" },
  validation: { status: 400, slug: "invalid-request", title: "The request is invalid", when: "the SDK rejected a field before calling the backend" },
  unauthorized: { status: 401, slug: "unauthorized", title: "A valid API key is required", when: "API keys are configured and the Bearer token is missing or wrong", during: ["auth"] },
  forbidden: { status: 403, slug: "forbidden", title: "The token does not grant this", when: "a JWT with a scope claim lacking the route's scope (synthesize, voices:write) or admin", during: ["scoped"] },
  not_found: { status: 404, slug: "not-found", title: "No such resource", when: "no route matches the path" },
  voice_not_found: { status: 404, slug: "voice-not-found", title: "No such voice", when: "the voice id (path or body) is unknown", during: ["voice-id"] },
  consent_not_found: { status: 404, slug: "consent-not-found", title: "No such voice consent", when: "the consent id is unknown or another key's" },
  consent_not_heard: {
    status: 422,
    slug: "consent-not-heard",
    title: "The recording does not say the consent phrase",
    when: "CONSENT_PHRASE is set and the ASR server did not hear it in the consent recording; the detail quotes what it heard",
  },
  asr_unavailable: {
    status: 503,
    slug: "asr-unavailable",
    title: "The speech-recognition server is unavailable",
    when: "a consent recording must be checked against CONSENT_PHRASE and the ASR server (ASR_URL) failed or its breaker is open (Retry-After)",
    // Nothing was saved: the same recording may be sent again.
    resendable: true,
  },
  audio_not_found: { status: 404, slug: "audio-not-found", title: "No such audio", when: "the audio id is unknown, expired, or its stream has not finished", during: ["audio-id"] },
  job_not_found: { status: 404, slug: "job-not-found", title: "No such job", when: "the job id is unknown, expired, deleted, or another owner's", during: ["job-id"] },
  job_not_finished: { status: 409, slug: "job-not-finished", title: "The job has not succeeded", when: "its captions or audio exist only once the job has succeeded", during: ["job-output"] },
  job_quota: { status: 429, slug: "job-quota", title: "The job quota is used up", when: "the owner's segments in jobs over JOB_QUOTA_WINDOW_MS would exceed JOB_SEGMENT_QUOTA (Retry-After)", during: ["job-submit"] },
  method_not_allowed: { status: 405, slug: "method-not-allowed", title: "Method not allowed", when: "the path exists but not with this method" },
  not_acceptable: { status: 406, slug: "not-acceptable", title: "The requested media type cannot be produced", when: "the Accept header (or `stream`) asks for a format this route cannot send; the detail lists the available ones", during: ["negotiation"] },
  request_timeout: { status: 408, slug: "request-timeout", title: "The request took too long to arrive", when: "the request's headers and body did not arrive within REQUEST_TIMEOUT_MS (a stalled upload); the connection is closed" },
  voice_read_only: { status: 409, slug: "voice-read-only", title: "Built-in voices cannot be deleted", when: "DELETE of a builtin: voice", during: ["voice-delete"] },
  payload_too_large: { status: 413, slug: "payload-too-large", title: "The body is too large", when: "the JSON body or the uploaded file exceeds its cap", during: ["body"] },
  unsupported_media_type: { status: 415, slug: "unsupported-media-type", title: "Unsupported content type", when: "the request's Content-Type is not the one the route takes", during: ["body"] },
  not_audio: { status: 415, slug: "not-audio", title: "The upload is not audio", when: "the uploaded file does not decode as a supported audio format", during: ["upload"] },
  range_not_satisfiable: { status: 416, slug: "range-not-satisfiable", title: "Range not satisfiable", when: "the Range header lies outside the audio", during: ["audio-id"] },
  invalid_audio: { status: 422, slug: "invalid-audio", title: "The audio cannot be used as a prompt", when: "the prompt audio is under 16 kHz or over 30 s", during: ["upload"] },
  voice_mode_mismatch: { status: 422, slug: "voice-mode-mismatch", title: "The voice cannot be used in this mode", when: "e.g. clone mode with a voice saved without promptText, or a built-in voice in clone mode", during: ["synthesis", "job-submit"] },
  unsupported_mode: { status: 422, slug: "unsupported-mode", title: "The backend cannot do this mode", when: "the connected UI variant/model lacks the mode (e.g. instruct on the official UI with CosyVoice3)", during: ["synthesis", "job-submit"] },
  upstream_warning: { status: 422, slug: "backend-warning", title: "The backend rejected the input", when: "the CosyVoice UI raised a warning; the detail carries its message", during: ["synthesis"] },
  rate_limited: { status: 429, slug: "rate-limited", title: "Too many requests", when: "the client's per-minute quota for this kind of request is used up", resendable: true, during: ["quota"] },
  headers_too_large: { status: 431, slug: "headers-too-large", title: "The request head is too large", when: "the request line and headers exceed Node's limit (16 KB by default), e.g. a huge URL or cookie" },
  internal: { status: 500, slug: "internal", title: "Internal error", when: "a bug in the gateway; the request id finds it in the logs" },
  encode_failed: { status: 500, slug: "encode-failed", title: "The audio could not be encoded", when: "ffmpeg failed while converting the audio to the asked format" },
  connection: { status: 502, slug: "backend-unreachable", title: "The CosyVoice backend is unreachable", when: "the backend refuses, resets, or dies mid-job", during: ["backend-speakers", "synthesis"] },
  upstream: { status: 502, slug: "backend-error", title: "The CosyVoice backend failed", when: "the backend failed the job with a hidden error or an unusable answer", during: ["synthesis"] },
  unsupported_backend: { status: 502, slug: "backend-unsupported", title: "The backend is not a recognised CosyVoice UI", when: "the URL answers but is not a known CosyVoice web UI", during: ["backend-speakers", "synthesis"] },
  auth_unavailable: { status: 503, slug: "auth-unavailable", title: "Tokens cannot be checked right now", when: "JWKS_URL does not answer, so a JWT cannot be verified (Retry-After)", during: ["auth"] },
  busy: { status: 503, slug: "busy", title: "The backend is at capacity", when: "all running slots and the wait list are taken (Retry-After says when to retry)", during: ["synthesis"] },
  breaker_open: { status: 503, slug: "breaker-open", title: "No backend is taking jobs right now", when: "every backend's circuit breaker is open after repeated failures (Retry-After: when one is tried again)", during: ["synthesis"] },
  queue_full: { status: 503, slug: "backend-queue-full", title: "The backend's queue is full", when: "the CosyVoice UI refused the job because its own queue is full", during: ["synthesis"] },
  not_ready: { status: 503, slug: "not-ready", title: "The backend is not ready", when: "GET /readyz: the backend does not answer or is not a recognised CosyVoice UI", resendable: true, during: ["readiness"] },
  encoders_busy: { status: 503, slug: "encoders-busy", title: "Every audio encoder is in use", when: "MAX_ENCODERS conversions to mp3/opus/flac/wav/pcm are running; refused before any synthesis starts (Retry-After)" },
  store_unavailable: { status: 503, slug: "store-unavailable", title: "The shared store is unavailable", when: "STORE=redis and Redis does not answer (Retry-After)", during: ["store"] },
  shutting_down: { status: 503, slug: "shutting-down", title: "The gateway is shutting down", when: "the job was cancelled because the gateway is stopping", during: ["synthesis"] },
  deadline_exceeded: { status: 504, slug: "deadline-exceeded", title: "The backend did not finish in time", when: "the upstream deadline passed; the backend job was cancelled", during: ["synthesis"] },
  timeout: { status: 504, slug: "deadline-exceeded", title: "The backend did not finish in time", when: "the SDK's own deadline passed; the backend job was cancelled", during: ["backend-speakers"] },
  // The client went away; nobody reads this answer, it only names the outcome in the logs.
  aborted: { status: 499, slug: "client-closed-request", title: "The client closed the request", when: "never sent: the client disconnected and its job was cancelled" },
};

/** The problem `type` URI of a kind. */
export function problemType(code: ProblemCode): string {
  return PROBLEM_TYPE_PREFIX + PROBLEM_KINDS[code].slug;
}

/**
 * The problem slug that names why a box is down, from the failure's code (`connection` ->
 * `backend-unreachable`, `timeout` -> `deadline-exceeded`); `backend-error` for any other.
 * @example downSlug("connection") // "backend-unreachable"
 */
export function downSlug(code: string): string {
  const kind = (PROBLEM_KINDS as Partial<Record<string, ProblemKind>>)[code];
  return kind !== undefined && kind.status >= 500 ? kind.slug : "backend-error";
}

/**
 * An error the gateway answers with as problem+json.
 * @example throw new HttpProblem("voice_not_found", { detail: `No voice "${id}"` });
 */
export class HttpProblem extends Error {
  override name = "HttpProblem";
  readonly code: ProblemCode;
  readonly detail: string | undefined;
  readonly errors: ProblemFieldError[] | undefined;
  /** Extra response headers, e.g. Retry-After or WWW-Authenticate. */
  readonly headers: Record<string, string>;
  readonly retryAfterSeconds: number | undefined;
  /** The title when the kind's own names the wrong service (a passthrough route's `/asr` box). */
  readonly title: string | undefined;
  constructor(
    code: ProblemCode,
    opts: { detail?: string; errors?: ProblemFieldError[]; headers?: Record<string, string>; retryAfterSeconds?: number; cause?: unknown; title?: string } = {},
  ) {
    super(opts.detail ?? PROBLEM_KINDS[code].title, { cause: opts.cause });
    this.code = code;
    this.detail = opts.detail;
    this.errors = opts.errors;
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.title = opts.title;
    this.headers = { ...opts.headers };
    if (opts.retryAfterSeconds !== undefined) this.headers["Retry-After"] = String(opts.retryAfterSeconds);
  }
  get status(): number {
    return PROBLEM_KINDS[this.code].status;
  }
}

/** What an SDK error may tell the client. Messages that could carry the upstream URL are not copied. */
const SDK_DETAIL: Partial<Record<CosyVoiceErrorCode, (err: CosyVoiceError) => Omit<ConstructorParameters<typeof HttpProblem>[1], "cause">>> = {
  upstream_warning: (err) => ({ detail: (err as CosyVoiceError & { warning: string }).warning }),
  unsupported_mode: (err) => ({ detail: err.message }),
  validation: (err) => {
    const issues = (err as CosyVoiceError & { issues?: { path: (string | number)[]; message: string; code: string }[] }).issues ?? [];
    return {
      detail: "The backend client rejected the request",
      errors: issues.map((i) => ({ pointer: "/" + i.path.map(String).join("/"), detail: i.message, code: i.code })),
    };
  },
  queue_full: (err) => ({
    retryAfterSeconds: retrySeconds((err as CosyVoiceError & { retryAfterMs?: number }).retryAfterMs ?? 1000),
  }),
};

/** An input issue as a problem `errors[]` entry: its path becomes a JSON pointer. */
const fieldError = (i: InputIssue): ProblemFieldError => ({
  pointer: i.path.map((p) => "/" + String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join(""),
  detail: i.message,
  code: i.code,
});

/** Whole seconds for Retry-After, never 0. */
const retrySeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/**
 * Turns anything thrown into an {@link HttpProblem}. Gateway and SDK errors go through the table
 * by `code` (a gateway error's message is written for clients, an SDK error's may carry the
 * upstream URL, so only what `SDK_DETAIL` allows is shown); anything unknown is an internal
 * error whose message is not shown.
 * @example const problem = toHttpProblem(err); res.status(problem.status);
 */
export function toHttpProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof GatewayError) {
    return new HttpProblem(err.code, {
      detail: err.message,
      ...(err.issues !== undefined && err.issues.length > 0 ? { errors: err.issues.map(fieldError) } : {}),
      ...(err.retryAfterMs !== undefined ? { retryAfterSeconds: retrySeconds(err.retryAfterMs) } : {}),
      cause: err,
    });
  }
  if (err instanceof CosyVoiceError && err.code in PROBLEM_KINDS) {
    // A box's failure names the box's service ("The CosyVoice FastAPI server is unreachable").
    const kind = boxKindOf(err);
    const title = kind !== undefined ? titleForCode(kind, err.code) : undefined;
    return new HttpProblem(err.code, { ...SDK_DETAIL[err.code]?.(err), cause: err, ...(title !== undefined ? { title } : {}) });
  }
  return new HttpProblem("internal", { cause: err });
}

/**
 * The problem+json body of a problem, for one request.
 * @example res.type("application/problem+json").json(problemBody(p, { requestId, instance: req.originalUrl }));
 */
export function problemBody(p: HttpProblem, ctx: { requestId?: string; instance?: string }): ProblemBody {
  const kind = PROBLEM_KINDS[p.code];
  const body: ProblemBody = { type: problemType(p.code), title: p.title ?? kind.title, status: kind.status };
  if (p.detail !== undefined) body.detail = p.detail;
  if (ctx.instance !== undefined) body.instance = ctx.instance;
  if (ctx.requestId !== undefined) body.requestId = ctx.requestId;
  if (p.errors !== undefined && p.errors.length > 0) body.errors = p.errors;
  if (p.retryAfterSeconds !== undefined) body.retryAfterSeconds = p.retryAfterSeconds;
  return body;
}
