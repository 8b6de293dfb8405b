/**
 * Errors on `/v1/*` in OpenAI's shape, `{"error":{"message","type","param","code"}}`, with the
 * statuses OpenAI's clients turn into their error classes (400 BadRequestError, 401
 * AuthenticationError, 403 PermissionDeniedError, 404 NotFoundError, 429 RateLimitError, 5xx
 * InternalServerError). Every
 * failure is first the same problem the REST routes answer with (one classification), then
 * re-dressed here from a table keyed by status.
 */
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "pino";
import { classifyError } from "../../platform/middleware/problem-handler.ts";
import { faultOf, safeToResend } from "../../backends/faults.ts";
import { HttpProblem, PROBLEM_KINDS } from "../problems.ts";

/** The body of every `/v1` error. All four keys are always present. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/**
 * OpenAI's `type` per status. 422 and 415 become 400: OpenAI's API answers bad input with 400
 * only, and its clients have no class for the others (they would surface as a bare APIError).
 */
const BY_STATUS: Record<number, { status: number; type: string }> = {
  400: { status: 400, type: "invalid_request_error" },
  401: { status: 401, type: "authentication_error" },
  403: { status: 403, type: "permission_error" },
  404: { status: 404, type: "not_found_error" },
  405: { status: 405, type: "invalid_request_error" },
  408: { status: 408, type: "invalid_request_error" },
  409: { status: 409, type: "invalid_request_error" },
  413: { status: 413, type: "invalid_request_error" },
  415: { status: 400, type: "invalid_request_error" },
  416: { status: 416, type: "invalid_request_error" },
  422: { status: 400, type: "invalid_request_error" },
  429: { status: 429, type: "rate_limit_error" },
  431: { status: 431, type: "invalid_request_error" },
};
const SERVER = { type: "server_error" };

/**
 * Sending the same request again cannot run a GPU job twice when the failure says nothing was
 * accepted and the request is not at fault (every slot, encoder or quota was taken; the gateway
 * is not ready or stopping before the job): the error class declares it (`faultOf`), or, for a
 * refusal at the door with no error class behind it, the problem table does. Every other 5xx may
 * have run the job (a deadline, a backend failing mid-job), and the official clients, which
 * retry 5xx by themselves, are told not to.
 */
/** A refusal for want of room or readiness, not a failure worth an error line in the log. */
const merelyRefused = (problem: HttpProblem): boolean => PROBLEM_KINDS[problem.code].resendable === true || (safeToResend(problem.cause) && !faultOf(problem.cause).boxFault);

/**
 * True when the failure left no job behind that a resend would repeat.
 * @example shouldRetry(new HttpProblem("busy")) // true
 */
export function shouldRetry(problem: HttpProblem): boolean {
  if (PROBLEM_KINDS[problem.code].resendable === true) return true;
  // A 4xx the request caused (e.g. a mode no box has) stays the request's to fix.
  return PROBLEM_KINDS[problem.code].status >= 500 && safeToResend(problem.cause);
}

/** The request field a problem is about, as OpenAI names it (`/speed` -> `speed`). */
function paramOf(p: HttpProblem): string | null {
  const pointer = p.errors?.[0]?.pointer;
  if (pointer === undefined || pointer === "") return null;
  return pointer.replace(/^\//, "").replace(/\//g, ".");
}

function messageOf(p: HttpProblem): string {
  const first = p.errors?.[0];
  if (!first) return p.detail ?? PROBLEM_KINDS[p.code].title;
  const about = `${paramOf(p) ?? "body"}: ${first.detail}`;
  if (p.detail === undefined) return about;
  return p.detail === first.detail ? p.detail : `${p.detail} (${about})`;
}

/**
 * The status, body and headers of a problem on `/v1`.
 * @example const { status, body, headers } = toOpenAIError(new HttpProblem("voice_not_found"));
 */
export function toOpenAIError(p: HttpProblem): { status: number; body: OpenAIErrorBody; headers: Record<string, string> } {
  const mapped = BY_STATUS[p.status] ?? { status: p.status, ...SERVER };
  const headers = { ...p.headers };
  if (mapped.status >= 500 || mapped.status === 429 || mapped.status === 408 || mapped.status === 409) {
    headers["x-should-retry"] = shouldRetry(p) ? "true" : "false";
  }
  return {
    status: mapped.status,
    // The field's own code (zod's too_big, our voice_not_found) says more than invalid_request.
    body: { error: { message: messageOf(p), type: mapped.type, param: paramOf(p), code: p.errors?.[0]?.code ?? p.code } },
    headers,
  };
}

/**
 * An OpenAI-shaped 400 about one field; `code` becomes the error's `code`.
 * @example throw invalidParam("speed", "speed must be between 0.5 and 2.0 (CosyVoice's range)", "speed_out_of_range");
 */
export function invalidParam(param: string, message: string, code = "invalid_value"): HttpProblem {
  return new HttpProblem("invalid_request", { detail: message, errors: [{ pointer: `/${param}`, detail: message, code }] });
}

/** Options of {@link openAIErrors}. */
export interface OpenAIErrorsOptions {
  logger: Logger;
}

/**
 * The error handler of the `/v1` router: every error as OpenAI's error body. A stream that
 * already started is cut (an SSE stream gets an `error` event first), so the client never
 * mistakes a truncated answer for a whole one.
 * @example router.use(openAIErrors({ logger }));
 */
export function openAIErrors(options: OpenAIErrorsOptions) {
  return function openAIErrors(err: unknown, _req: Request, res: Response, _next: NextFunction): void {
    const problem = classifyError(err);
    // The rate limit gives refusals of bad input back by their code.
    res.locals.problemCode = problem.code;
    const { status, body, headers } = toOpenAIError(problem);
    const log = { requestId: res.locals.requestId, code: problem.code, status, err: problem.cause ?? problem };
    if (status >= 500 && !merelyRefused(problem)) options.logger.error(log, "request failed");
    else options.logger.debug(log, "request refused");
    if (res.headersSent) {
      if (res.getHeader("content-type") === "text/event-stream" && !res.writableEnded && !res.destroyed) {
        res.end(`data: ${JSON.stringify({ type: "error", ...body })}\n\n`);
      } else {
        res.destroy();
      }
      return;
    }
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    res.status(status).type("application/json").send(JSON.stringify(body));
  };
}
