/**
 * Two gateway instances on one real Redis in front of one stand-in, each built from the
 * configuration as production does (`backendPoolFor` with STORE=redis): the box's cap of 1
 * (CONCURRENCY=1, QUEUE_SIZE=0) holds over both, so of two requests at once, one through each
 * instance, one runs and the other is refused 503 `busy` at once; with a line of 1 both run, one
 * after the other, never two on the box together.
 */
import { randomUUID } from "node:crypto";
import { readRecord, startRedis, startStandin, type RedisHandle, type StandinHandle } from "@cosyvoice3/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultConfig, type GatewayConfig } from "../src/platform/config.ts";
import { backendPoolFor, type BackendPool } from "../src/backends/pool/index.ts";
import { openRedisStores, type RedisStores } from "../src/platform/stores/redis.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";

const VOICE = "builtin:英文女";
let redis: RedisHandle;
let standin: StandinHandle;
beforeAll(async () => {
  [redis, standin] = await Promise.all([startRedis(), startStandin({ variant: "official", model: "cosyvoice1", firstChunkDelayMs: 1_000 })]);
}, 90_000);
afterAll(async () => {
  await standin?.stop();
  await redis?.stop();
});

async function twoGateways(cap: Partial<GatewayConfig>) {
  const prefix = `test-${randomUUID()}:`;
  const config = defaultConfig({ store: "redis", redisUrl: redis.url, redisKeyPrefix: prefix, cosyvoiceUrls: [standin.url], model: "cosyvoice1", healthCheckIntervalMs: 0, cache: { maxBytes: 0, ttlMs: 60_000 }, ...cap });
  const made: { stores: RedisStores; pool: BackendPool; gw: TestGateway }[] = [];
  for (let i = 0; i < 2; i++) {
    const stores = await openRedisStores({ url: redis.url, prefix, audioTtlMs: config.audioTtlMs, audioMaxBytes: config.audioMaxBytes, logger: pino({ level: "silent" }) });
    const pool = backendPoolFor(config, pino({ level: "silent" }), { redis: stores.redis });
    const gw = await startTestGateway({ backend: pool, config, stores });
    made.push({ stores, pool, gw });
  }
  return {
    a: made[0]!.gw,
    b: made[1]!.gw,
    async close() {
      for (const m of made) {
        await m.gw.close();
        await m.pool.close();
        await m.stores.close();
      }
    },
  };
}

/** The most jobs the stand-in's record shows running at once. */
function mostAtOnce(): number {
  let running = 0;
  let most = 0;
  for (const e of readRecord(standin.record)) {
    if (e.event === "call" && e["fn"] === "generate_audio") most = Math.max(most, ++running);
    if (e.event === "done" || e.event === "cancelled" || e.event === "error") running--;
  }
  return most;
}

describe("a cap of 1 over two gateway instances", () => {
  it("one request through each at once: one runs, the other is 503 busy at once", async () => {
    const { a, b, close } = await twoGateways({ concurrency: 1, queueSize: 0 });
    try {
      const before = readRecord(standin.record).filter((e) => e.event === "call").length;
      const first = a.api("/synthesize", jsonPost({ text: "Through A.", voice: VOICE, seed: 1 }));
      await new Promise((r) => setTimeout(r, 300));
      const t = Date.now();
      const second = await b.api("/synthesize", jsonPost({ text: "Through B.", voice: VOICE, seed: 2 }));
      expect(second.status).toBe(503);
      expect(second.json.type).toBe("urn:cosyvoice3-gateway:problem:busy");
      expect(Number(second.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(Date.now() - t).toBeLessThan(1_000);
      expect((await first).status).toBe(201);
      expect(readRecord(standin.record).filter((e) => e.event === "call").length - before).toBe(1);
      // Freed: B can run now.
      expect((await b.api("/synthesize", jsonPost({ text: "Through B again.", voice: VOICE, seed: 3 }))).status).toBe(201);
    } finally {
      await close();
    }
  }, 60_000);

  it("with a line of 1 both run, one after the other, never together on the box", async () => {
    const { a, b, close } = await twoGateways({ concurrency: 1, queueSize: 1 });
    try {
      const results = await Promise.all([
        a.api("/synthesize", jsonPost({ text: "Queued A.", voice: VOICE, seed: 4 })),
        b.api("/synthesize", jsonPost({ text: "Queued B.", voice: VOICE, seed: 5 })),
      ]);
      expect(results.map((r) => r.status)).toEqual([201, 201]);
      expect(mostAtOnce()).toBe(1);
    } finally {
      await close();
    }
  }, 60_000);
});
