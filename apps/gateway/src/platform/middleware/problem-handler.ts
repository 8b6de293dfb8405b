import type { NextFunction, Request, Response } from "express";
import type { Logger } from "pino";
import { HttpProblem, problemBody, toHttpProblem, type ProblemCode } from "../../doors/problems.ts";

/** Options of {@link problemHandler}. */
export interface ProblemHandlerOptions {
  logger: Logger;
}

/** body-parser's errors carry a `type`; each maps to one problem kind. */
const BODY_PARSER_ERRORS: Record<string, { code: ProblemCode; detail: string }> = {
  "entity.parse.failed": { code: "malformed_json", detail: "The body is not valid JSON" },
  "entity.too.large": { code: "payload_too_large", detail: "The JSON body is larger than the limit" },
  "encoding.unsupported": { code: "unsupported_media_type", detail: "Unsupported Content-Encoding" },
  "charset.unsupported": { code: "unsupported_media_type", detail: "Unsupported charset; send UTF-8" },
  "request.aborted": { code: "aborted", detail: "The client aborted the request" },
  "request.size.invalid": { code: "invalid_request", detail: "The body is shorter or longer than Content-Length" },
};

/**
 * Client errors raised by Express's own parts (http-errors from body-parser, the router's
 * URIError for a path parameter that is not percent-encoded UTF-8) carry a 4xx `status`.
 * Their messages are not copied: the router's quotes the raw path, zlib's is jargon.
 */
const CLIENT_STATUS: Record<number, { code: ProblemCode; detail: string }> = {
  400: { code: "invalid_request", detail: "The request could not be read" },
  404: { code: "not_found", detail: "No such path" },
  413: { code: "payload_too_large", detail: "The body is larger than the limit" },
  415: { code: "unsupported_media_type", detail: "Unsupported content type or encoding" },
};

function clientStatus(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const { status, statusCode, expose } = err as { status?: unknown; statusCode?: unknown; expose?: unknown };
  const s = typeof status === "number" ? status : statusCode;
  // A URIError from the router has a status but no `expose`; http-errors sets `expose` for 4xx.
  if (typeof s !== "number" || s < 400 || s > 499 || !(expose === true || err instanceof URIError)) return undefined;
  return s;
}

/**
 * Any error a route or Express itself raised, as the problem it answers with (shared by the
 * other error shapes, e.g. OpenAI's on `/v1`).
 * @example const problem = classifyError(err); res.status(problem.status);
 */
export function classifyError(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  const type = (err as { type?: unknown } | null)?.type;
  const known = typeof type === "string" ? BODY_PARSER_ERRORS[type] : undefined;
  if (known) return new HttpProblem(known.code, { detail: known.detail, cause: err });
  const status = clientStatus(err);
  if (status !== undefined) {
    if (err instanceof URIError) return new HttpProblem("invalid_request", { detail: "The path is not valid percent-encoded UTF-8", cause: err });
    const mapped = CLIENT_STATUS[status] ?? CLIENT_STATUS[400];
    if (mapped) return new HttpProblem(mapped.code, { detail: mapped.detail, cause: err });
  }
  return toHttpProblem(err);
}

/**
 * The last middleware: answers every error as RFC 9457 problem+json with the request id, and
 * never with a stack, an upstream URL or a file path (those go to the log only). When the
 * response had already started (a stream), the connection is cut so the client sees an
 * incomplete body rather than a clean end.
 * @example app.use(problemHandler({ logger }));
 */
export function problemHandler(options: ProblemHandlerOptions) {
  return function problemHandler(err: unknown, req: Request, res: Response, _next: NextFunction): void {
    const problem = classifyError(err);
    res.locals.problemCode = problem.code;
    const requestId = res.locals.requestId;
    const log = { requestId, code: problem.code, status: problem.status, err: problem.cause ?? problem };
    if (problem.status >= 500 && problem.code !== "busy" && problem.code !== "not_ready") options.logger.error(log, "request failed");
    else options.logger.debug(log, "request refused");
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
    const body = problemBody(problem, { requestId, instance: req.originalUrl.split("?")[0] ?? "/" });
    res.status(problem.status).type("application/problem+json").send(JSON.stringify(body));
  };
}

/**
 * Answers a path no route knows with 404, or 405 with Allow when the path exists with other
 * methods.
 * @example router.route("/voices").get(list).all(methodNotAllowed(["GET", "POST"]));
 */
export function methodNotAllowed(allowed: readonly string[]) {
  const allow = [...allowed, ...(allowed.includes("GET") && !allowed.includes("HEAD") ? ["HEAD"] : [])].join(", ");
  return function methodNotAllowed(req: Request, _res: Response, next: NextFunction): void {
    next(new HttpProblem("method_not_allowed", { detail: `${req.method} is not allowed here; use ${allow}`, headers: { Allow: allow } }));
  };
}

/** @example app.use(notFound()); */
export function notFound() {
  return function notFound(_req: Request, _res: Response, next: NextFunction): void {
    next(new HttpProblem("not_found", { detail: "No such path" }));
  };
}
