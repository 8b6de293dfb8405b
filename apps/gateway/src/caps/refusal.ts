import { HttpProblem } from "../problems.ts";

/**
 * The shared cap is full: every slot runs and the line is full, over all instances. Answered as
 * `busy` (503 with Retry-After), like the cap of one instance.
 * @example throw new CapacityRefusal(4_000, "2 jobs are running and 2 waiting");
 */
export class CapacityRefusal extends HttpProblem {
  constructor(retryAfterMs: number, why: string) {
    const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super("busy", { detail: `${why}; retry in ${retryAfterSeconds} s`, retryAfterSeconds });
  }
}
