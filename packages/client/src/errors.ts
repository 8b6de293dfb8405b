/**
 * What can go wrong talking to the gateway, in three kinds that say what the caller can do:
 * the gateway answered with a problem (read `problem`, maybe retry after `retryAfterMs`), the
 * gateway could not be reached (retry later), or the caller's own signal aborted the call.
 */
import type { Problem } from "./types.ts";

/** Prefix of every problem `type` the gateway sends. */
export const PROBLEM_TYPE_PREFIX = "urn:cosyvoice3-gateway:problem:";

/** Prefix of the `type` of a problem made from an OpenAI-shaped error (`/v1` routes): `openai:<code>`. */
export const OPENAI_TYPE_PREFIX = "openai:";

/** Base class of the client's errors. */
export class GatewayClientError extends Error {
  override name = "GatewayClientError";
}

/**
 * The gateway answered with an error status; `problem` is its problem+json body (or one made
 * from the status when the body was not a problem, e.g. from a proxy in between).
 * @example
 * try { await api.saveVoice({ audio, name }); }
 * catch (e) { if (e instanceof ApiError && e.slug === "invalid-audio") showHint(e.problem.detail); }
 */
export class ApiError extends GatewayClientError {
  override name = "ApiError";
  readonly status: number;
  readonly problem: Problem;
  /** The last part of `problem.type`, e.g. `voice-not-found` (or OpenAI's error code on `/v1`). */
  readonly slug: string;
  readonly requestId: string | undefined;
  /** From `Retry-After` (or `problem.retryAfterSeconds`) where retrying helps. @unit milliseconds */
  readonly retryAfterMs: number | undefined;

  constructor(status: number, problem: Problem, headers?: Headers) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.status = status;
    this.problem = problem;
    const prefix = [PROBLEM_TYPE_PREFIX, OPENAI_TYPE_PREFIX].find((p) => problem.type.startsWith(p));
    this.slug = prefix ? problem.type.slice(prefix.length) : problem.type;
    this.requestId = problem.requestId ?? headers?.get("x-request-id") ?? undefined;
    const header = Number(headers?.get("retry-after") ?? Number.NaN);
    const seconds = Number.isFinite(header) ? header : problem.retryAfterSeconds;
    this.retryAfterMs = seconds === undefined ? undefined : seconds * 1000;
  }
}

/** The gateway could not be reached, or the connection broke mid-answer. `cause` has the fetch error. */
export class ApiConnectionError extends GatewayClientError {
  override name = "ApiConnectionError";
}

/** The caller's `signal` aborted the call (a streamed synthesis is cancelled on the gateway). */
export class ApiUserAbortError extends GatewayClientError {
  override name = "ApiUserAbortError";
}

function isProblem(body: unknown): body is Problem {
  return typeof body === "object" && body !== null && typeof (body as Problem).type === "string" && typeof (body as Problem).title === "string";
}

/**
 * The {@link ApiError} for an error response, given its parsed body.
 * @example throw apiError(res, await res.json().catch(() => undefined));
 */
export function apiError(response: Response, body: unknown): ApiError {
  return new ApiError(response.status, isProblem(body) ? body : problemFrom(response, body), response.headers);
}

/** A problem for a body that is not one: OpenAI's `{ error: { message, code } }` (the `/v1` routes), text, or nothing. */
function problemFrom(response: Response, body: unknown): Problem {
  const title = response.statusText || `HTTP ${response.status}`;
  const openai = (body as { error?: { message?: unknown; code?: unknown; type?: unknown } } | undefined)?.error;
  if (typeof openai === "object" && openai !== null && typeof openai.message === "string") {
    const code = typeof openai.code === "string" ? openai.code : typeof openai.type === "string" ? openai.type : "error";
    return { type: `${OPENAI_TYPE_PREFIX}${code}`, title, status: response.status, detail: openai.message };
  }
  return { type: "about:blank", title, status: response.status, ...(typeof body === "string" && body !== "" ? { detail: body.slice(0, 500) } : {}) };
}

/**
 * The error for something fetch threw: an abort by the caller's signal, or a connection failure.
 * @example catch (err) { throw fetchFailure(err, signal); }
 */
export function fetchFailure(err: unknown, signal?: AbortSignal): GatewayClientError {
  if (err instanceof GatewayClientError) return err;
  if (signal?.aborted || (err instanceof Error && err.name === "AbortError")) {
    return new ApiUserAbortError("The request was aborted", { cause: signal?.reason ?? err });
  }
  const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  return new ApiConnectionError(`Cannot reach the gateway: ${reason}`, { cause: err });
}
