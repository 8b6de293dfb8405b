import { join } from "node:path";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { GatewayConfig } from "../../platform/config.ts";
import { DiskAudioStore } from "../../platform/stores/audio-store.ts";
import { SynthesisCache } from "./synthesis-cache.ts";

/**
 * The synthesis cache a configuration names: off with `CACHE_MAX_BYTES=0`; in Redis (shared by
 * every instance, under `<prefix>cache:`, identical jobs in flight run once over all of them
 * under `<prefix>flight:`) with `STORE=redis`; else under `DATA_DIR/cache`.
 * @example const cache = await openCache(config, logger, stores.redis);
 */
export async function openCache(config: GatewayConfig, logger: Logger, redis?: Redis): Promise<SynthesisCache | undefined> {
  const { maxBytes, ttlMs } = config.cache;
  if (maxBytes === 0) return undefined;
  if (config.store === "redis") {
    if (!redis) throw new Error("STORE=redis: the cache needs the Redis connection");
    const [{ RedisAudioStore }, { RedisFlights }] = await Promise.all([import("../../platform/stores/redis-audio-store.ts"), import("./redis-flights.ts")]);
    // Identical jobs in flight on several instances run once (a leader's lease lapses like a slot's).
    const flights = new RedisFlights({ redis, prefix: `${config.redisKeyPrefix}flight:`, leaseMs: config.slotLeaseMs, logger: logger.child({ component: "flights" }) });
    return new SynthesisCache({ store: new RedisAudioStore(redis, `${config.redisKeyPrefix}cache:`, { ttlMs, maxBytes }), logger, memoryTtlMs: ttlMs, memoryBytes: Math.min(maxBytes, 32 * 1024 * 1024), flights });
  }
  return new SynthesisCache({ store: await DiskAudioStore.open(join(config.dataDir, "cache"), { ttlMs, maxBytes }), logger, memoryTtlMs: ttlMs, memoryBytes: Math.min(maxBytes, 32 * 1024 * 1024) });
}
