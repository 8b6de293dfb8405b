import { GatewayError } from "../../service/errors.ts";

/**
 * Every backend that could take the job has its circuit breaker open; nothing was sent. Retry
 * after `retryAfterMs`, when the first one takes a probe job.
 * @example throw new BreakerOpenError(8_000, ["backend-1", "backend-2"]);
 */
export class BreakerOpenError extends GatewayError {
  override name = "BreakerOpenError";
  declare readonly retryAfterMs: number;
  constructor(retryAfterMs: number, backends: readonly string[]) {
    super("breaker_open", `Every backend (${backends.join(", ")}) failed repeatedly and is resting; retry in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s`, { retryAfterMs });
  }
}
