/** The domain errors of narration jobs; each maps to one problem kind at the HTTP edge. */
import { GatewayError } from "../service/errors.ts";

/**
 * No job with this id for this caller (another owner's job is just as unknown).
 * @example throw new JobNotFoundError("j_...");
 */
export class JobNotFoundError extends GatewayError {
  override name = "JobNotFoundError";
  constructor(id: string) {
    super("job_not_found", `No job with id ${JSON.stringify(id.slice(0, 100))}`);
  }
}

/**
 * The job's outputs exist once it has succeeded. Wait (GET /jobs/{id}/events) and ask again.
 * @example throw new JobNotFinishedError("running");
 */
export class JobNotFinishedError extends GatewayError {
  override name = "JobNotFinishedError";
  constructor(status: string) {
    super("job_not_finished", `The job is ${status}; its audio and captions exist once it has succeeded`);
  }
}

/**
 * The owner's segment quota is used up; nothing was queued. Retry after `retryAfterMs`.
 * @example throw new JobQuotaError(3_600_000, 120, 20_000);
 */
export class JobQuotaError extends GatewayError {
  override name = "JobQuotaError";
  declare readonly retryAfterMs: number;
  constructor(retryAfterMs: number, segments: number, limit: number) {
    super("job_quota", `This job has ${segments} segments and the quota is ${limit} segments per window; retry in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
  }
}
