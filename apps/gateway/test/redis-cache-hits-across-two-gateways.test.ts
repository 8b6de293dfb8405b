/**
 * Two gateway instances on one real Redis share the synthesis cache: a clip made through one is a
 * hit on the other (whose backend is never called), and each answer is a clip of the caller's own.
 */
import { randomUUID } from "node:crypto";
import { startRedis, type RedisHandle } from "@cosyvoice3/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SynthesisCache } from "../src/service/cache/index.ts";
import { defaultConfig } from "../src/platform/config.ts";
import { RedisAudioStore } from "../src/platform/stores/redis-audio-store.ts";
import { openRedisStores, type RedisStores } from "../src/platform/stores/redis.ts";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";

let redis: RedisHandle;
const stores: RedisStores[] = [];
const gateways: TestGateway[] = [];
const backends = [new FakeBackend(), new FakeBackend()];

beforeAll(async () => {
  redis = await startRedis();
  const prefix = `test-${randomUUID()}:`;
  const config = defaultConfig({ store: "redis", redisUrl: redis.url, redisKeyPrefix: prefix });
  for (const backend of backends) {
    const s = await openRedisStores({ url: redis.url, prefix, audioTtlMs: config.audioTtlMs, audioMaxBytes: config.audioMaxBytes, logger: pino({ level: "silent" }) });
    stores.push(s);
    const cache = new SynthesisCache({ store: new RedisAudioStore(s.redis, `${prefix}cache:`, { ttlMs: 60_000, maxBytes: 10_000_000 }), logger: pino({ level: "silent" }) });
    const gw = await startTestGateway({ backend, config, stores: s, cache });
    gateways.push(gw);
    expect((await gw.api("/readyz")).status).toBe(200);
  }
}, 60_000);
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await Promise.all(stores.map((s) => s.close()));
  await redis?.stop();
});

describe("a cache shared in Redis", () => {
  it("a clip made through instance A is a hit on instance B, which never calls its backend", async () => {
    const [a, b] = gateways as [TestGateway, TestGateway];
    const body = jsonPost({ text: "Shared by two gateways.", voice: "builtin:中文女", seed: 9 });
    const made = await a.api("/synthesize", body);
    expect(made.status).toBe(201);
    expect(backends[0]!.calls.length).toBe(1);
    const hit = await b.api("/synthesize", body);
    expect(hit.status).toBe(201);
    expect(backends[1]!.calls.length).toBe(0);
    expect(hit.json.id).not.toBe(made.json.id);
    const fromA = Buffer.from((await a.api(made.json.url)).bytes);
    const fromB = Buffer.from((await b.api(hit.json.url)).bytes);
    expect(fromB.equals(fromA)).toBe(true);
  });

  it("another seed misses on both", async () => {
    const [, b] = gateways as [TestGateway, TestGateway];
    expect((await b.api("/synthesize", jsonPost({ text: "Shared by two gateways.", voice: "builtin:中文女", seed: 10 }))).status).toBe(201);
    expect(backends[1]!.calls.length).toBe(1);
  });
});
