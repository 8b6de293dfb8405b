import express, { type NextFunction, type Request, type Response } from "express";
import { HttpProblem } from "../problems.ts";

/** Options of {@link jsonBody}. */
export interface JsonBodyOptions {
  /** @unit bytes */
  maxBytes: number;
}

/**
 * Parses a JSON body, refusing any other Content-Type with 415 (express.json alone would skip
 * it silently and the route would see an empty body). Malformed JSON becomes a 400 and an
 * oversized body a 413 in the problem handler.
 * @example router.post("/synthesize", jsonBody({ maxBytes: 32 * 1024 }), handler);
 */
export function jsonBody(options: JsonBodyOptions) {
  const parse = express.json({ limit: options.maxBytes, strict: true, type: "application/json" });
  return function jsonBody(req: Request, res: Response, next: NextFunction): void {
    if (!req.is("application/json")) {
      return next(new HttpProblem("unsupported_media_type", { detail: "Send the body as application/json" }));
    }
    parse(req, res, next);
  };
}
