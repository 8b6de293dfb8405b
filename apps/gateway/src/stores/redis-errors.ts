import { HttpProblem } from "../problems.ts";

/**
 * Runs one store operation against Redis; any failure of Redis itself (connection lost, command
 * refused) becomes a `store_unavailable` problem (503), never a 500 that looks like a bug.
 * @example return guard("voice list", () => redis.zrange(key, 0, -1));
 */
export async function guard<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof HttpProblem) throw err;
    throw new HttpProblem("store_unavailable", { detail: `The shared store did not answer (${what}); retry shortly`, retryAfterSeconds: 1, cause: err });
  }
}
