/**
 * The backend pool: `pool.ts` (the class and its one job loop), `rank.ts` (which box, pure),
 * `failover.ts` (what follows a failure, pure), `health.ts` (what is known of each box),
 * `lease.ts` (a slot that moves with its job).
 */
import type { Logger } from "pino";
import { parseBackendAddress } from "../address.ts";
import { backendFor } from "../detect.ts";
import { DRIVERS } from "../drivers.ts";
import type { GatewayConfig } from "../../platform/config.ts";
import type { Redis } from "ioredis";
import { BackendBreaker, SharedBreaker } from "../breaker/index.ts";
import { RedisSlots } from "../../service/caps/index.ts";
import { Slots } from "../../service/caps/slots.ts";
import { tracedFetch } from "../../platform/tracing/fetch.ts";
import { tracingEnabled } from "../../platform/tracing/state.ts";
import { BackendPool } from "./pool.ts";

export { BackendPool, type AcquireOptions, type BackendPoolOptions, type BackendStatus, type BackendView, type PoolMember, type PoolObserver, type PoolRequestOptions, type Readiness } from "./pool.ts";
export type { BackendState } from "./health.ts";
export type { Lease } from "./lease.ts";
export { canRun, needsOf, rank, type JobNeeds, type RankedBox, type RankOptions } from "./rank.ts";
export { decideAfterFailure, verdictOn, type FailureDecision, type FailureFacts } from "./failover.ts";

/** What {@link backendPoolFor} may use besides the configuration. */
export interface PoolExtras {
  /** With `STORE=redis`: the connection the shared job slots live on. */
  redis?: Redis | undefined;
}

/**
 * The pool a configuration describes: one driver per address of `COSYVOICE_URL` (its kind named
 * by the scheme or found by probing), named
 * `backend-1`, `backend-2`, ... in that order, each with `CONCURRENCY` slots and a wait list of
 * `QUEUE_SIZE` (held in Redis over every instance with `STORE=redis`), a circuit breaker unless
 * `BREAKER_FAILURES=0`, traced fetches when tracing is on, checked every
 * `HEALTH_CHECK_INTERVAL_MS` once `start()` is called.
 * @example
 * const pool = backendPoolFor(loadConfig(process.env), logger, { redis });
 * pool.start();
 */
export function backendPoolFor(config: GatewayConfig, logger: Logger, extras: PoolExtras = {}): BackendPool {
  const sdkLogger = logger.child({ component: "sdk" });
  const fetch = tracingEnabled() ? { fetch: tracedFetch(globalThis.fetch) } : {};
  const slotsFor = (name: string) => {
    if (config.store !== "redis") return new Slots({ concurrency: config.concurrency, queueSize: config.queueSize });
    if (!extras.redis) throw new Error("STORE=redis: the shared job slots need the Redis connection");
    return new RedisSlots({
      redis: extras.redis,
      key: `${config.redisKeyPrefix}cap:${name}:`,
      concurrency: config.concurrency,
      queueSize: config.queueSize,
      leaseTtlMs: config.slotLeaseMs,
      logger: logger.child({ component: "slots", backend: name }),
    });
  };
  // With STORE=redis one breaker per box (by its URL) over every instance: one instance's
  // evidence opens it for all, and one probe serves all.
  const breakerFor = (name: string, url: string) =>
    extras.redis
      ? new SharedBreaker({ redis: extras.redis, key: `${config.redisKeyPrefix}breaker:${url.replace(/\/+$/, "")}:`, name, threshold: config.breaker.failures, halfOpenAfterMs: config.breaker.openMs, logger })
      : new BackendBreaker({ name, threshold: config.breaker.failures, halfOpenAfterMs: config.breaker.openMs, logger });
  return new BackendPool({
    logger,
    healthCheckIntervalMs: config.healthCheckIntervalMs,
    members: config.cosyvoiceUrls.map((url, i) => {
      const name = `backend-${i + 1}`;
      const address = parseBackendAddress(url);
      const named = address.kind !== undefined ? DRIVERS[address.kind] : undefined;
      return {
        name,
        url: address.url,
        ...(address.kind !== undefined ? { kind: address.kind } : {}),
        ...(named ? { codec: named.codec } : {}),
        slots: slotsFor(name),
        ...(config.breaker.failures > 0 ? { breaker: breakerFor(name, address.url) } : {}),
        // The kind the address names (`fastapi+http://`, `grpc://`, ...), else the one a probe finds.
        backend: backendFor(address, { model: config.model, timeoutMs: config.upstreamTimeoutMs, maxRetries: config.upstreamMaxRetries, logger: sdkLogger, ...fetch }),
      };
    }),
  });
}
