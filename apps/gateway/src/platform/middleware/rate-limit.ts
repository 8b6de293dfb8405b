import type { NextFunction, Request, RequestHandler, Response } from "express";
import { ipKeyGenerator, MemoryStore, rateLimit, type Store } from "express-rate-limit";
import type { Logger } from "pino";
import { HttpProblem, type ProblemCode } from "../../doors/problems.ts";

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
 * Whether an answer gives the request back to the client's quota: a refusal of bad input (a 4xx
 * the client fixes by changing the request) did no work, so it does not count. Everything else
 * counts: successes, failures upstream, a 422 `backend-warning` (the backend ran the job), the
 * 429 itself (a client hammering stays limited), and a request whose client went away mid-work.
 * @example refusedAsBadInput(400, "invalid_request") // true
 */
export function refusedAsBadInput(status: number, code: ProblemCode | undefined): boolean {
  if (status < 400 || status >= 500 || status === 429) return false;
  return code !== "upstream_warning";
}

/**
 * A per-client rate limit: per API key when the client sent one (see `apiKeys()`), else per IP
 * (IPv6 grouped by /56 so one host cannot rotate addresses). Counts requests that reached work:
 * a request refused as bad input (400, 404, 413, 415, 422 ...) is given back once its answer is
 * sent, so a client fixing its request is not locked out by its own mistakes. Sends the standard
 * `RateLimit` and `RateLimit-Policy` headers (IETF draft 8) and, when exceeded, `Retry-After`
 * and a 429 problem.
 * @example router.post("/synthesize", rateLimitFor({ name: "synthesize", limit: 20, windowMs: 60_000, logger }), handler);
 */
export function rateLimitFor(policy: RateLimitPolicy): RequestHandler {
  // Our own handle on the store, to give a refused request back (express-rate-limit's
  // skipFailedRequests would also give back a request whose client left mid-job).
  const store = policy.store ?? new MemoryStore();
  const keyOf = (req: Request, res: Response) => (res.locals.clientKey as string | undefined) ?? "ip:" + ipKeyGenerator(req.ip ?? "unknown");
  const limiter = rateLimit({
    windowMs: policy.windowMs,
    limit: policy.limit,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    identifier: policy.name,
    keyGenerator: keyOf,
    handler: (_req, res, next) => {
      const retryAfter = Number(res.getHeader("Retry-After") ?? Math.ceil(policy.windowMs / 1000));
      next(
        new HttpProblem("rate_limited", {
          detail: `At most ${policy.limit} ${policy.name} requests per ${Math.round(policy.windowMs / 1000)} s; retry in ${retryAfter} s (requests refused as invalid do not count)`,
          retryAfterSeconds: retryAfter,
        }),
      );
    },
    logger: { warn: (msg: string) => policy.logger.warn(msg), error: (msg: string) => policy.logger.error(msg) } as never,
    store,
  });
  return function rateLimitFor(req: Request, res: Response, next: NextFunction) {
    return limiter(req, res, (err?: unknown) => {
      if (err === undefined && res.statusCode !== 429) {
        // Counted: listen for an answer that gives it back.
        res.once("finish", () => {
          if (!refusedAsBadInput(res.statusCode, res.locals.problemCode)) return;
          Promise.resolve(store.decrement(keyOf(req, res))).catch((e: unknown) => policy.logger.warn({ err: e, quota: policy.name }, "rate limit: could not give a refused request back"));
        });
      }
      next(err);
    });
  };
}
