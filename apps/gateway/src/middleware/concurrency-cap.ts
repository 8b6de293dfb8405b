import type { NextFunction, Request, Response } from "express";
import type { BackendPool, Lease } from "../pool.ts";

/** Options of {@link concurrencyCap}. */
export interface ConcurrencyCapOptions {
  pool: BackendPool;
}

/**
 * Holds one backend job slot for the rest of the request (`res.locals.lease`): the pool picks the
 * backend with the fewest outstanding jobs, the request waits in that backend's short line, or
 * gets 503 with Retry-After at once when every line is full. The slot is freed when the response
 * closes (finished, failed, or the client went away). Put it after `upstreamDeadline()` so
 * waiting counts against the deadline and a client that leaves the line frees its place.
 * @example router.post("/synthesize", upstreamDeadline({ ms }), concurrencyCap({ pool }), handler);
 */
export function concurrencyCap(options: ConcurrencyCapOptions) {
  return async function concurrencyCap(_req: Request, res: Response, next: NextFunction): Promise<void> {
    let lease: Lease;
    try {
      lease = await options.pool.acquire(res.locals.signal);
    } catch (err) {
      return next(err);
    }
    if (res.closed) {
      lease.release();
      return;
    }
    res.once("close", () => lease.release());
    res.locals.lease = lease;
    next();
  };
}
