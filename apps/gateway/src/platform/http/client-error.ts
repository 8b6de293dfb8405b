/**
 * Requests Node's HTTP parser refuses before Express sees them (an oversized head, an unknown
 * method, a malformed request line, Content-Length with Transfer-Encoding, a request that did
 * not arrive within the request timeout). Without a `clientError` listener Node answers with a
 * bare status line; with this one they get the same problem+json as every other error.
 */
import { randomUUID } from "node:crypto";
import { STATUS_CODES, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { HttpProblem, problemBody, type ProblemCode } from "../../doors/problems.ts";

/** Options of {@link clientErrorHandler}. */
export interface ClientErrorOptions {
  logger: Logger;
}

/** The parser's error codes that are not a plain 400. */
const PARSER_ERRORS: Partial<Record<string, { code: ProblemCode; detail: string }>> = {
  HPE_HEADER_OVERFLOW: { code: "headers_too_large", detail: "The request line and headers are larger than the server accepts" },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { code: "payload_too_large", detail: "The chunk extensions are larger than the server accepts" },
  ERR_HTTP_REQUEST_TIMEOUT: { code: "request_timeout", detail: "The request did not arrive in time" },
};

const MALFORMED = { code: "malformed_request" as const, detail: "The HTTP parser refused the request" };

/**
 * The server's `clientError` listener: writes a complete `HTTP/1.1` problem+json answer with
 * `Connection: close` when the socket can still take one, then closes it. The parser's message
 * and the raw bytes are not echoed (they are the client's own, possibly hostile, input).
 * @example server.on("clientError", clientErrorHandler({ logger }));
 */
export function clientErrorHandler(options: ClientErrorOptions) {
  const { logger } = options;
  return function clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    // A response already under way (a keep-alive request's answer) must not be corrupted by a
    // second status line; the same guard as Node's own default answer.
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (err.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent === true) {
      logger.debug({ code: err.code }, "client connection error");
      socket.destroy();
      return;
    }
    const kind = (err.code !== undefined ? PARSER_ERRORS[err.code] : undefined) ?? MALFORMED;
    const problem = new HttpProblem(kind.code, { detail: kind.detail });
    // A request timeout can hit a request Express is already reading: keep the id it was given.
    const given = inFlight?.getHeader("x-request-id");
    const requestId = typeof given === "string" ? given : randomUUID();
    const body = JSON.stringify(problemBody(problem, { requestId }));
    logger.warn({ requestId, code: kind.code, status: problem.status, parserError: err.code }, "request refused by the HTTP parser");
    const head =
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? "Error"}\r\n` +
      "Content-Type: application/problem+json\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${requestId}\r\n` +
      "X-Content-Type-Options: nosniff\r\n" +
      "Connection: close\r\n\r\n";
    // Closed once written; the timer covers a peer that never drains its receive window.
    const guard = setTimeout(() => socket.destroy(), 1_000);
    guard.unref();
    socket.end(head + body, () => {
      clearTimeout(guard);
      socket.destroy();
    });
  };
}
