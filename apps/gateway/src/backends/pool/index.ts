/**
 * The backend pool: `pool.ts` (the class and its one job loop), `rank.ts` (which box, pure),
 * `failover.ts` (what follows a failure, pure), `lease.ts` (a slot that moves with its job). Its
 * boxes (health, slots, breaker) live in the registry (`../registry/`), which every door reads.
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
import { BoxRegistry } from "../registry/index.ts";
import { BackendPool } from "./pool.ts";

export { BackendPool, type AcquireOptions, type BackendPoolOptions, type BackendStatus, type BackendView, type PoolMember, type PoolObserver, type PoolRequestOptions, type Readiness } from "./pool.ts";
export type { BackendState } from "../registry/index.ts";
export type { Lease } from "./lease.ts";
export { canRun, needsOf, rank, type JobNeeds, type RankedBox, type RankOptions } from "./rank.ts";
export { decideAfterFailure, verdictOn, type FailureDecision, type FailureFacts } from "./failover.ts";

/** What {@link backendPoolFor} may use besides the configuration. */
export interface PoolExtras {
  /** With `STORE=redis`: the connection the shared job slots and breakers live on. */
  redis?: Redis | undefined;
  /** The registry the pool adds its boxes to. @default {@link registryFor} the configuration */
  registry?: BoxRegistry;
}

/**
 * The registry of boxes a configuration describes: each new box with `CONCURRENCY` slots and a
 * wait list of `QUEUE_SIZE` (held in Redis over every instance with `STORE=redis`), a circuit
 * breaker for the boxes a synthesis or ASR door uses unless `BREAKER_FAILURES=0` (shared in
 * Redis with `STORE=redis`: one instance's evidence opens it for all, and one probe serves all),
 * one health check per box every `HEALTH_CHECK_INTERVAL_MS` once started.
 * @example const registry = registryFor(config, logger, { redis });
 */
export function registryFor(config: GatewayConfig, logger: Logger, extras: Pick<PoolExtras, "redis"> = {}): BoxRegistry {
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
  const breakerFor = (name: string, url: string) => {
    if (config.breaker.failures <= 0) return undefined;
    return extras.redis
      ? new SharedBreaker({ redis: extras.redis, key: `${config.redisKeyPrefix}breaker:${url.replace(/\/+$/, "")}:`, name, threshold: config.breaker.failures, halfOpenAfterMs: config.breaker.openMs, logger })
      : new BackendBreaker({ name, threshold: config.breaker.failures, halfOpenAfterMs: config.breaker.openMs, logger });
  };
  return new BoxRegistry({ logger, slotsFor, breakerFor, healthCheckIntervalMs: config.healthCheckIntervalMs });
}

/**
 * The pool a configuration describes: one driver per address of `COSYVOICE_URL` (its kind named
 * by the scheme or found by probing), named `backend-1`, `backend-2`, ... in that order, its
 * boxes in the registry (see {@link registryFor}), traced fetches when tracing is on. A routes
 * file's reload changes its boxes live (`pool.sync`).
 * @example
 * const pool = backendPoolFor(loadConfig(process.env), logger, { redis });
 * pool.start();
 */
export function backendPoolFor(config: GatewayConfig, logger: Logger, extras: PoolExtras = {}): BackendPool {
  const sdkLogger = logger.child({ component: "sdk" });
  const fetch = tracingEnabled() ? { fetch: tracedFetch(globalThis.fetch) } : {};
  const registry = extras.registry ?? registryFor(config, logger, extras);
  const addressEntry = (given: string) => {
    const address = parseBackendAddress(given);
    const named = address.kind !== undefined ? DRIVERS[address.kind] : undefined;
    return {
      url: address.url,
      ...(address.kind !== undefined ? { kind: address.kind } : {}),
      ...(named ? { codec: named.codec } : {}),
      // The kind the address names (`fastapi+http://`, `grpc://`, ...), else the one a probe finds.
      driver: () => backendFor(address, { model: config.model, timeoutMs: config.upstreamTimeoutMs, maxRetries: config.upstreamMaxRetries, logger: sdkLogger, ...fetch }),
    };
  };
  const pool = new BackendPool({ logger, registry, addressEntry, members: [], healthCheckIntervalMs: config.healthCheckIntervalMs });
  pool.sync(config.cosyvoiceUrls, { checkNew: false });
  return pool;
}
