// The Redis audio store keeps a clip for its TTL as a Redis expiry (gone for every instance,
// keys included), holds a total-size cap across instances by evicting the oldest clips, and a
// Redis that stops answering is a 503 store-unavailable, never a 500 or a hang.
import { startRedis, type RedisHandle } from "@cosyvoice3/testkit";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../src/platform/ids.ts";
import { openRedisStores, type RedisStores } from "../src/platform/stores/redis.ts";
import { jsonPost } from "./helpers/harness.ts";
import { until } from "./helpers/pool-stack.ts";
import { startGatewayPair, type GatewayPair } from "./helpers/redis-pair.ts";

let redis: RedisHandle;
let raw: Redis;
beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
});
afterAll(async () => {
  raw?.disconnect();
  await redis?.stop();
});

describe("a clip's TTL is its Redis expiry", () => {
  let pair: GatewayPair;
  beforeAll(async () => {
    pair = await startGatewayPair(redis.url, { audioTtlMs: 1_500 });
  });
  afterAll(() => pair?.close());

  it("served by both instances at first, then 404 on both and its keys gone from Redis", async () => {
    const made = await pair.a.api("/synthesize", jsonPost({ text: "Short-lived.", voice: "builtin:中文女" }));
    expect(made.status).toBe(201);
    expect((await pair.b.api(made.json.url)).status).toBe(200);
    const keys = [`${pair.prefix}audio:${made.json.id}`, `${pair.prefix}audio:${made.json.id}:data`];
    const ttl = await raw.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1_500);
    await until(async () => (await raw.exists(...keys)) === 0, "Redis to expire the clip's keys", 20_000);
    expect((await pair.a.api(made.json.url)).status).toBe(404);
    expect((await pair.b.api(made.json.url)).json.type).toBe("urn:cosyvoice3-gateway:problem:audio-not-found");
  });
});

describe("the total-size cap holds across instances", () => {
  let a: RedisStores;
  let b: RedisStores;
  const prefix = `cap-${Date.now()}:`;
  const open = (ttlMs: number, keyPrefix = prefix) =>
    openRedisStores({ url: redis.url, prefix: keyPrefix, audioTtlMs: ttlMs, audioMaxBytes: 2_500, logger: pino({ level: "silent" }) });
  beforeAll(async () => {
    [a, b] = await Promise.all([open(60_000), open(60_000)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it("clips written by two instances: the oldest go first, the total stays under the cap", async () => {
    const ids = [newId("a_"), newId("a_"), newId("a_"), newId("a_")];
    const clip = (n: number) => new Uint8Array(1_000).fill(n);
    await a.audio.put({ id: ids[0]!, mimeType: "audio/wav" }, clip(1));
    await b.audio.put({ id: ids[1]!, mimeType: "audio/wav" }, clip(2));
    expect(await a.audio.totalBytes()).toBe(2_000);
    await a.audio.put({ id: ids[2]!, mimeType: "audio/wav" }, clip(3));
    expect(await b.audio.stat(ids[0]!)).toBeUndefined();
    expect(await b.audio.totalBytes()).toBe(2_000);
    await b.audio.put({ id: ids[3]!, mimeType: "audio/wav" }, clip(4));
    expect(await a.audio.stat(ids[1]!)).toBeUndefined();
    expect((await a.audio.stat(ids[2]!))?.bytes).toBe(1_000);
    expect((await a.audio.stat(ids[3]!))?.bytes).toBe(1_000);
    expect(await a.audio.totalBytes()).toBe(2_000);
  });

  it("a clip larger than the cap is kept alone (the cap evicts others, never the clip just written)", async () => {
    const big = newId("a_");
    await a.audio.put({ id: big, mimeType: "audio/wav" }, new Uint8Array(3_000).fill(9));
    expect((await b.audio.stat(big))?.bytes).toBe(3_000);
    expect(await b.audio.totalBytes()).toBe(3_000);
  });

  it("expired clips stop counting once a sweep (or the next write) sees them", async () => {
    const short = await open(1_000, `${prefix}short:`);
    try {
      const id = newId("a_");
      await short.audio.put({ id, mimeType: "audio/wav" }, new Uint8Array(10).fill(1));
      expect(await short.audio.totalBytes()).toBe(10);
      await until(async () => (await short.audio.stat(id)) === undefined, "the clip to expire", 20_000);
      await short.audio.sweep();
      expect(await short.audio.totalBytes()).toBe(0);
    } finally {
      await short.close();
    }
  });
});

describe("Redis goes away", () => {
  let own: RedisHandle;
  let pair: GatewayPair;
  beforeAll(async () => {
    own = await startRedis();
    pair = await startGatewayPair(own.url);
  });
  afterAll(async () => {
    await pair?.close();
    await own?.stop();
  });

  it("requests that need it answer 503 store-unavailable with Retry-After; health stays 200", async () => {
    expect((await pair.a.api("/voices")).status).toBe(200);
    await own.stop();
    for (const res of [await pair.a.api("/voices"), await pair.b.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }))]) {
      expect(res.status).toBe(503);
      expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:store-unavailable");
      expect(res.headers.get("retry-after")).toBe("1");
      expect(JSON.stringify(res.json)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|redis:\/\//);
    }
    expect((await pair.a.api("/healthz")).status).toBe(200);
  });
});
