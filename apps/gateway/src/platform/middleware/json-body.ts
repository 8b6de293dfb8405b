import type { IncomingMessage } from "node:http";
import express, { type NextFunction, type Request, type Response } from "express";
import { HttpProblem } from "../../doors/problems.ts";

/** Options of {@link jsonBody}. */
export interface JsonBodyOptions {
  /** @unit bytes */
  maxBytes: number;
}

/**
 * Up to this many declared bytes, an oversized body is still read and thrown away after the
 * 413, so the connection stays usable and a client still sending reads the answer (closing a
 * socket with unread data makes the kernel send a reset, which can swallow the 413). Past it,
 * the connection is closed instead: reading 10 GB to be polite is what the cap prevents.
 * @unit bytes
 */
const DRAIN_MAX_BYTES = 1024 * 1024;

/** Thrown by the verify step; turned into a problem below, never seen by the problem handler. */
class InvalidUtf8 extends Error {
  override name = "InvalidUtf8";
}

// Decoding leniently would turn every invalid byte into U+FFFD and synthesise that.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function verifyUtf8(_req: IncomingMessage, _res: unknown, body: Buffer): void {
  try {
    strictUtf8.decode(body);
  } catch {
    throw new InvalidUtf8("The body is not valid UTF-8");
  }
}

/** The charset parameter of a Content-Type, lower-cased, or undefined when there is none. */
function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? "");
  return m?.[1]?.toLowerCase();
}

/** Errors of the read that need this middleware's knowledge to be told apart. */
function translate(err: unknown, req: Request): unknown {
  if (err instanceof InvalidUtf8) {
    return new HttpProblem("invalid_request", {
      detail: "The body is not valid UTF-8",
      errors: [{ pointer: "", detail: "the body must be UTF-8 encoded JSON; it has bytes that are not valid UTF-8", code: "invalid_utf8" }],
      cause: err,
    });
  }
  const encoding = (req.get("content-encoding") ?? "identity").toLowerCase();
  // body-parser types every error of its own; an untyped 400 is the decompression stream failing.
  const typed = typeof (err as { type?: unknown } | null)?.type === "string";
  if (!typed && encoding !== "identity" && (err as { status?: unknown } | null)?.status === 400) {
    return new HttpProblem("invalid_request", { detail: `The body does not decode as its Content-Encoding (${encoding})`, cause: err });
  }
  return err;
}

/**
 * Parses a JSON body, refusing any other Content-Type with 415 (express.json alone would skip
 * it silently and the route would see an empty body) and any charset but UTF-8. A declared
 * Content-Length over the cap is 413 at once, before a byte of the body is read; a body that
 * grows past it without one (chunked) is 413 as well. Bytes that are not UTF-8 are 400, never
 * replaced; malformed JSON becomes a 400 in the problem handler.
 * @example router.post("/synthesize", jsonBody({ maxBytes: 32 * 1024 }), handler);
 */
export function jsonBody(options: JsonBodyOptions) {
  const parse = express.json({ limit: options.maxBytes, strict: true, type: "application/json", verify: verifyUtf8 });
  return function jsonBody(req: Request, res: Response, next: NextFunction): void {
    if (!req.is("application/json")) {
      return next(new HttpProblem("unsupported_media_type", { detail: "Send the body as application/json" }));
    }
    const charset = charsetOf(req.get("content-type"));
    if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
      return next(new HttpProblem("unsupported_media_type", { detail: "Unsupported charset; send UTF-8" }));
    }
    const declared = Number(req.get("content-length"));
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      return next(
        new HttpProblem("payload_too_large", {
          detail: `The JSON body is larger than the limit of ${options.maxBytes} bytes`,
          ...(declared > DRAIN_MAX_BYTES ? { headers: { Connection: "close" } } : {}),
        }),
      );
    }
    parse(req, res, (err?: unknown) => (err === undefined ? next() : next(translate(err, req))));
  };
}
