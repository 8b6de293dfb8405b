import type { NextFunction, Request, Response } from "express";
import { HttpProblem } from "../problems.ts";

/** Options of {@link upstreamDeadline}. */
export interface UpstreamDeadlineOptions {
  /** Deadline from this point on (slot wait included). @unit milliseconds */
  ms: number;
  /** Aborts every job when the gateway shuts down. */
  shutdown?: AbortSignal;
}

/**
 * Gives the request an AbortSignal (`res.locals.signal`) that the route passes to the SDK, so the
 * real upstream job is cancelled, not just raced. It aborts with a problem as its reason:
 * `deadline_exceeded` (504) when the deadline passes, `aborted` when the client goes away, and
 * `shutting_down` (503) when the gateway stops.
 *
 * The client going away is seen on the response's `close` before it finished: in Node 16+ the
 * request's own `close` fires as soon as the body has been read, so it says nothing about the
 * client still listening.
 * @example router.post("/synthesize", upstreamDeadline({ ms: 60_000 }), handler);
 */
export function upstreamDeadline(options: UpstreamDeadlineOptions) {
  return function upstreamDeadline(_req: Request, res: Response, next: NextFunction): void {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new HttpProblem("deadline_exceeded", { detail: `The backend did not finish within ${options.ms} ms; the job was cancelled` })),
      options.ms,
    );
    const onShutdown = () => controller.abort(new HttpProblem("shutting_down", { detail: "The gateway is shutting down; the job was cancelled" }));
    options.shutdown?.addEventListener("abort", onShutdown, { once: true });
    if (options.shutdown?.aborted) onShutdown();
    res.once("close", () => {
      clearTimeout(timer);
      options.shutdown?.removeEventListener("abort", onShutdown);
      if (!res.writableFinished) controller.abort(new HttpProblem("aborted", { detail: "The client disconnected" }));
    });
    res.locals.signal = controller.signal;
    next();
  };
}
