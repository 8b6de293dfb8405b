import type { NextFunction, Request, Response } from "express";
import { CallerGoneError } from "../../service/errors.ts";

/**
 * Gives the request an AbortSignal (`res.locals.signal`) that aborts with a
 * {@link CallerGoneError} when the client goes away before its answer is finished; the route
 * passes it to the synthesis service, which adds the deadline and the shutdown to it and so
 * cancels the real upstream job, not just a race.
 *
 * The client going away is seen on the response's `close` before it finished: in Node 16+ the
 * request's own `close` fires as soon as the body has been read, so it says nothing about the
 * client still listening.
 * @example router.post("/synthesize", clientSignal(), handler);
 */
export function clientSignal() {
  return function clientSignal(_req: Request, res: Response, next: NextFunction): void {
    const controller = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) controller.abort(new CallerGoneError());
    });
    res.locals.signal = controller.signal;
    next();
  };
}
