/**
 * The stores a configuration names: `STORE=disk` (the embedded default: voices and audio under
 * `DATA_DIR`, rate-limit counters in this process) or `STORE=redis` (all three in Redis, shared
 * by every gateway instance pointing at it).
 */
import { join } from "node:path";
import type { Store } from "express-rate-limit";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { GatewayConfig } from "../config.ts";
import { DiskAudioStore, type AudioStore } from "./audio-store.ts";
import { WriteBehindAudioStore } from "./write-behind-audio-store.ts";
import { DiskVoiceStore, type VoiceStore } from "./voice-store.ts";
import { DiskConsentStore, type ConsentStore } from "./consent-store.ts";

/** Opened stores, ready for `createApp`. */
export interface GatewayStores {
  kind: "disk" | "redis";
  voices: VoiceStore;
  audio: AudioStore;
  /** Voice consents (OpenAI's /v1/audio/voice_consents). */
  consents: ConsentStore;
  /** Shared rate-limit counters (Redis); undefined keeps them in this process. */
  rateLimitStore?: (name: string) => Store;
  /** The Redis connection with `STORE=redis` (the cache and the shared slots use it too). */
  redis?: Redis;
  /** Resolves when the shared store (Redis) answers; rejects with `store_unavailable`, within a second, when not. */
  ping?(): Promise<void>;
  /** Stops background work and closes connections. */
  close(): Promise<void>;
}

/**
 * @example
 * const stores = await openStores(loadConfig(process.env), logger);
 * const app = createApp(config, { backend, logger, ...stores });
 */
export async function openStores(config: GatewayConfig, logger: Logger, now: () => number = Date.now): Promise<GatewayStores> {
  if (config.store === "redis") {
    if (config.redisUrl === undefined) throw new Error("STORE=redis needs REDIS_URL");
    // Loaded only here: a disk-store gateway never holds the Redis client in memory.
    const { openRedisStores } = await import("./redis.ts");
    const shared = await openRedisStores({
      url: config.redisUrl,
      prefix: config.redisKeyPrefix,
      audioTtlMs: config.audioTtlMs,
      audioMaxBytes: config.audioMaxBytes,
      logger: logger.child({ component: "redis" }),
      now,
    });
    return { kind: "redis", voices: shared.voices, audio: shared.audio, consents: shared.consents, rateLimitStore: shared.rateLimitStore, redis: shared.redis, ping: shared.ping, close: shared.close };
  }
  const voices = await DiskVoiceStore.open(join(config.dataDir, "voices"), now);
  const consents = await DiskConsentStore.open(join(config.dataDir, "consents"), now);
  const disk = await DiskAudioStore.open(join(config.dataDir, "audio"), { ttlMs: config.audioTtlMs, maxBytes: config.audioMaxBytes, now });
  // A synthesis is answered before its clip's write lands (about a millisecond); closing waits for the writes.
  const audio = config.audioWriteBehindBytes > 0 ? new WriteBehindAudioStore(disk, { ttlMs: config.audioTtlMs, maxPendingBytes: config.audioWriteBehindBytes, logger, now }) : disk;
  return { kind: "disk", voices, consents, audio, close: () => audio.close() };
}
