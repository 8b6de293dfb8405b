/**
 * The shared state of several gateway instances in one Redis: one connection (ioredis) serving
 * the voice registry, the audio store and the rate-limit counters (rate-limit-redis).
 */
import type { Store } from "express-rate-limit";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { RedisStore, type RedisReply } from "rate-limit-redis";
import { RedisAudioStore } from "./redis-audio-store.ts";
import { RedisConsentStore } from "./redis-consent-store.ts";
import { guard } from "./redis-errors.ts";
import { RedisVoiceStore } from "./redis-voice-store.ts";

/** Options of {@link openRedisStores}. */
export interface RedisStoresOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  url: string;
  /** Prefix of every key. @default "cosyvoice3-gateway:" */
  prefix?: string;
  /** Audio TTL (the clips' Redis expiry). @unit milliseconds */
  audioTtlMs: number;
  /** Total audio kept over all instances. @unit bytes */
  audioMaxBytes: number;
  logger: Logger;
  /** @default Date.now */
  now?: () => number;
}

/** The Redis-backed parts a gateway is built from. */
export interface RedisStores {
  voices: RedisVoiceStore;
  audio: RedisAudioStore;
  consents: RedisConsentStore;
  /** One counter store per quota name, for `createApp`'s `rateLimitStore`. */
  rateLimitStore(name: string): Store;
  /** Resolves when Redis answers PING; rejects with `store_unavailable` when it does not within a second. */
  ping(): Promise<void>;
  /** Closes the connection (after the stores' last use). */
  close(): Promise<void>;
  redis: Redis;
}

/** rate-limit-redis's store, with Redis failures turned into a 503 problem instead of a 500. */
class GuardedRedisStore extends RedisStore {
  override increment(key: string) {
    return guard("rate limit", () => super.increment(key));
  }
  override decrement(key: string) {
    return guard("rate limit", () => super.decrement(key));
  }
  override resetKey(key: string) {
    return guard("rate limit", () => super.resetKey(key));
  }
}

/**
 * Connects to Redis (failing fast when it does not answer, so a bad `REDIS_URL` stops start-up)
 * and builds the stores on that one connection.
 * @example
 * const shared = await openRedisStores({ url: "redis://127.0.0.1:6379", audioTtlMs: 86_400_000, audioMaxBytes: 2 ** 29, logger });
 * const app = createApp(config, { backend, voices: shared.voices, audio: shared.audio, rateLimitStore: shared.rateLimitStore, logger });
 */
export async function openRedisStores(opts: RedisStoresOptions): Promise<RedisStores> {
  const prefix = opts.prefix ?? "cosyvoice3-gateway:";
  const redis = new Redis(opts.url, {
    lazyConnect: true,
    // A request fails soon (503 store-unavailable) while Redis is away, rather than hanging in
    // the offline queue; the connection keeps retrying in the background.
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  let lastLogged = 0;
  redis.on("error", (err: Error) => {
    // ioredis emits an error per failed reconnect; once every 10 s is enough for the log.
    const now = Date.now();
    if (now - lastLogged < 10_000) return;
    lastLogged = now;
    opts.logger.warn({ err: err.message }, "redis connection error");
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new Error(`Redis at REDIS_URL does not answer: ${(err as Error).message}`, { cause: err });
  }
  const sendCommand = (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>;
  const now = opts.now ?? Date.now;
  return {
    redis,
    voices: new RedisVoiceStore(redis, prefix, now),
    consents: new RedisConsentStore(redis, prefix, now),
    audio: new RedisAudioStore(redis, prefix, { ttlMs: opts.audioTtlMs, maxBytes: opts.audioMaxBytes, now }),
    rateLimitStore: (name: string) => new GuardedRedisStore({ sendCommand, prefix: `${prefix}rate:${name}:` }),
    ping: async () => {
      // A connection that is re-connecting queues the command: a second is all /readyz waits.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("no answer within 1 s")), 1_000);
      });
      try {
        await guard("ping", () => Promise.race([redis.ping(), late]));
      } finally {
        clearTimeout(timer);
      }
    },
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
