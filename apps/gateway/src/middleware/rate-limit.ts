import type { NextFunction, Request, RequestHandler, Response } from "express";
import { ipKeyGenerator, rateLimit, type Store } from "express-rate-limit";
import type { Logger } from "pino";
import { HttpProblem } from "../problems.ts";

/** One quota: `limit` requests per `windowMs` per client. */
export interface RateLimitPolicy {
  /** Names the quota in the RateLimit headers, e.g. "synthesize". */
  name: string;
  limit: number;
  /** @unit milliseconds */
  windowMs: number;
  logger: Logger;
  /** Counter store; the default keeps counts in this process (swap for Redis when scaling out). */
  store?: Store;
}

/**
 * A per-client rate limit: per API key when the client sent one (see `apiKeys()`), else per IP
 * (IPv6 grouped by /56 so one host cannot rotate addresses). Sends the standard `RateLimit` and
 * `RateLimit-Policy` headers (IETF draft 8) and, when exceeded, `Retry-After` and a 429 problem.
 * @example router.post("/synthesize", rateLimitFor({ name: "synthesize", limit: 20, windowMs: 60_000, logger }), handler);
 */
export function rateLimitFor(policy: RateLimitPolicy): RequestHandler {
  const limiter = rateLimit({
    windowMs: policy.windowMs,
    limit: policy.limit,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    identifier: policy.name,
    keyGenerator: (req, res) => (res.locals.clientKey as string | undefined) ?? "ip:" + ipKeyGenerator(req.ip ?? "unknown"),
    handler: (_req, res, next) => {
      const retryAfter = Number(res.getHeader("Retry-After") ?? Math.ceil(policy.windowMs / 1000));
      next(
        new HttpProblem("rate_limited", {
          detail: `At most ${policy.limit} ${policy.name} requests per ${Math.round(policy.windowMs / 1000)} s; retry in ${retryAfter} s`,
          retryAfterSeconds: retryAfter,
        }),
      );
    },
    logger: { warn: (msg: string) => policy.logger.warn(msg), error: (msg: string) => policy.logger.error(msg) } as never,
    ...(policy.store ? { store: policy.store } : {}),
  });
  return function rateLimitFor(req: Request, res: Response, next: NextFunction) {
    return limiter(req, res, next);
  };
}
