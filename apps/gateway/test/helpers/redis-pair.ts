/**
 * Two gateway instances in this process sharing one real Redis (each with its own connection,
 * data directory and backend), as two instances behind a load balancer would.
 */
import { randomUUID } from "node:crypto";
import { pino } from "pino";
import { defaultConfig, type GatewayConfig } from "../../src/platform/config.ts";
import { openRedisStores, type RedisStores } from "../../src/platform/stores/redis.ts";
import { FakeBackend } from "./fake-backend.ts";
import { startTestGateway, type TestGateway } from "./harness.ts";

export interface GatewayPair {
  a: TestGateway;
  b: TestGateway;
  backends: { a: FakeBackend; b: FakeBackend };
  stores: { a: RedisStores; b: RedisStores };
  /** The key prefix both use (fresh per pair, so pairs never see each other's keys). */
  prefix: string;
  close(): Promise<void>;
}

export async function startGatewayPair(redisUrl: string, config: Partial<GatewayConfig> = {}): Promise<GatewayPair> {
  const prefix = `test-${randomUUID()}:`;
  const base = defaultConfig({ store: "redis", redisUrl, redisKeyPrefix: prefix, rateLimit: { windowMs: 60_000, synthesize: 1000, upload: 1000, read: 10_000 }, ...config });
  const open = () =>
    openRedisStores({ url: redisUrl, prefix, audioTtlMs: base.audioTtlMs, audioMaxBytes: base.audioMaxBytes, logger: pino({ level: "silent" }) });
  const stores = { a: await open(), b: await open() };
  const backends = { a: new FakeBackend(), b: new FakeBackend() };
  const a = await startTestGateway({ backend: backends.a, config: base, stores: stores.a });
  const b = await startTestGateway({ backend: backends.b, config: base, stores: stores.b });
  return {
    a,
    b,
    backends,
    stores,
    prefix,
    async close() {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([stores.a.close(), stores.b.close()]);
    },
  };
}
