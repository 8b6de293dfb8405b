import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";

/** Options of {@link requestId}. */
export interface RequestIdOptions {
  /** @default "X-Request-Id" */
  header?: string;
}

// An incoming id is echoed into logs and headers, so only a short, plain token is trusted.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Accepts the caller's request id when it is a plain token, otherwise makes one; echoes it in
 * the response header and leaves it in `res.locals.requestId` for logs and problems.
 * @example app.use(requestId());
 */
export function requestId(options: RequestIdOptions = {}) {
  const header = options.header ?? "X-Request-Id";
  return function requestId(req: Request, res: Response, next: NextFunction): void {
    const incoming = req.get(header);
    const id = incoming !== undefined && SAFE_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.setHeader(header, id);
    next();
  };
}
