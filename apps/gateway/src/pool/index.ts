/**
 * The backend pool: `pool.ts` (the class and its one job loop), `rank.ts` (which box, pure),
 * `failover.ts` (what follows a failure, pure), `health.ts` (what is known of each box),
 * `lease.ts` (a slot that moves with its job).
 */
import type { Logger } from "pino";
import { connectingBackend } from "../backend.ts";
import type { GatewayConfig } from "../config.ts";
import { Slots } from "../slots.ts";
import { BackendPool } from "./pool.ts";

export { BackendPool, type AcquireOptions, type BackendPoolOptions, type BackendStatus, type BackendView, type PoolMember, type PoolRequestOptions, type Readiness } from "./pool.ts";
export type { BackendState } from "./health.ts";
export type { Lease } from "./lease.ts";
export { canRun, needsOf, rank, type JobNeeds, type RankedBox, type RankOptions } from "./rank.ts";
export { decideAfterFailure, verdictOn, type FailureDecision, type FailureFacts } from "./failover.ts";

/**
 * The pool a configuration describes: one SDK backend per URL of `COSYVOICE_URL`, named
 * `backend-1`, `backend-2`, ... in that order, each with `CONCURRENCY` slots and a wait list of
 * `QUEUE_SIZE`, checked every `HEALTH_CHECK_INTERVAL_MS` once `start()` is called.
 * @example
 * const pool = backendPoolFor(loadConfig(process.env), logger);
 * pool.start();
 */
export function backendPoolFor(config: GatewayConfig, logger: Logger): BackendPool {
  const sdkLogger = logger.child({ component: "sdk" });
  return new BackendPool({
    logger,
    healthCheckIntervalMs: config.healthCheckIntervalMs,
    members: config.cosyvoiceUrls.map((url, i) => ({
      name: `backend-${i + 1}`,
      url,
      slots: new Slots({ concurrency: config.concurrency, queueSize: config.queueSize }),
      backend: connectingBackend(url, {
        client: { model: config.model, timeoutMs: config.upstreamTimeoutMs, maxRetries: config.upstreamMaxRetries, logger: sdkLogger },
      }),
    })),
  });
}
