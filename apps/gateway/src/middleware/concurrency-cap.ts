import type { NextFunction, Request, Response } from "express";
import type { Slots } from "../slots.ts";

/** Options of {@link concurrencyCap}. */
export interface ConcurrencyCapOptions {
  slots: Slots;
}

/**
 * Holds one backend job slot for the rest of the request: waits in the short line, or answers
 * 503 with Retry-After at once when the line is full. The slot is freed when the response closes
 * (finished, failed, or the client went away). Put it after `upstreamDeadline()` so waiting
 * counts against the deadline and a client that leaves the line frees its place.
 * @example router.post("/synthesize", upstreamDeadline({ ms }), concurrencyCap({ slots }), handler);
 */
export function concurrencyCap(options: ConcurrencyCapOptions) {
  return async function concurrencyCap(_req: Request, res: Response, next: NextFunction): Promise<void> {
    let release: () => void;
    try {
      release = await options.slots.acquire(res.locals.signal);
    } catch (err) {
      return next(err);
    }
    if (res.closed) {
      release();
      return;
    }
    res.once("close", release);
    next();
  };
}
