// Two gateway instances over one real Redis (started by the test): a voice saved through one is
// listed, used and deleted through the other; audio made on one is served (whole and by Range)
// by the other; a rate limit counts the requests of both.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startRedis, type RedisHandle } from "@cosyvoice3/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../src/platform/config.ts";
import { startGateway } from "../src/server.ts";
import { jsonPost, voiceForm } from "./helpers/harness.ts";
import { startGatewayPair, type GatewayPair } from "./helpers/redis-pair.ts";
import { makeWav } from "./helpers/wav.ts";

let redis: RedisHandle;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.stop());

describe("voices and audio shared through Redis", () => {
  let pair: GatewayPair;
  beforeAll(async () => {
    pair = await startGatewayPair(redis.url);
  });
  afterAll(() => pair?.close());

  it("a voice saved through A is listed, read, used and deleted through B", async () => {
    const prompt = makeWav({ sampleRate: 16_000, seconds: 1.2, freq: 150 });
    const created = await pair.a.api("/voices", { method: "POST", body: voiceForm({ audio: prompt, name: "Shared", promptText: "Hello there." }) });
    expect(created.status).toBe(201);
    const id: string = created.json.id;

    const listed = await pair.b.api("/voices");
    expect(listed.json.voices.filter((v: { kind: string }) => v.kind === "cloned")).toEqual([created.json]);
    expect((await pair.b.api(`/voices/${id}`)).json).toEqual(created.json);

    const synth = await pair.b.api("/synthesize", jsonPost({ text: "Using the shared voice.", voice: id }));
    expect(synth.status).toBe(201);
    expect(synth.json.mode).toBe("clone");
    const sent = pair.backends.b.calls.at(-1)?.request;
    expect(sent).toMatchObject({ mode: "clone", promptText: "Hello there." });
    // B sent the very bytes that were uploaded through A.
    expect(Buffer.from((sent as { promptAudio: { data: Uint8Array } }).promptAudio.data).equals(Buffer.from(prompt))).toBe(true);

    expect((await pair.b.api(`/voices/${id}`, { method: "DELETE" })).status).toBe(204);
    expect((await pair.a.api(`/voices/${id}`)).status).toBe(404);
    expect((await pair.a.api(`/voices/${id}`, { method: "DELETE" })).status).toBe(404);
    expect((await pair.a.api("/synthesize", jsonPost({ text: "Gone?", voice: id }))).json.type).toBe("urn:cosyvoice3-gateway:problem:voice-not-found");
  });

  it("audio made on A is served by B, whole, by Range and with the same ETag", async () => {
    const made = await pair.a.api("/synthesize", jsonPost({ text: "Made on A.", voice: "builtin:中文女" }));
    expect(made.status).toBe(201);
    const onA = await pair.a.api(made.json.url);
    const onB = await pair.b.api(made.json.url);
    expect(onB.status).toBe(200);
    expect(onB.headers.get("content-type")).toBe("audio/wav");
    expect(Buffer.from(onB.bytes).equals(Buffer.from(onA.bytes))).toBe(true);
    expect(onB.bytes.length).toBe(made.json.bytes);
    expect(onB.headers.get("etag")).toBe(onA.headers.get("etag"));

    const part = await pair.b.api(made.json.url, { headers: { range: "bytes=100-1099" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-1099/${made.json.bytes}`);
    expect(Buffer.from(part.bytes).equals(Buffer.from(onA.bytes.subarray(100, 1100)))).toBe(true);
    const tail = await pair.b.api(made.json.url, { headers: { range: "bytes=-10" } });
    expect(Buffer.from(tail.bytes).equals(Buffer.from(onA.bytes.subarray(-10)))).toBe(true);
    expect((await pair.b.api(made.json.url, { headers: { range: `bytes=${made.json.bytes}-` } })).status).toBe(416);
  });

  it("a streamed clip made on A answers on B under its X-Audio-Id", async () => {
    const res = await fetch(pair.a.url + "/synthesize", jsonPost({ text: "Streamed on A.", voice: "builtin:中文女", stream: true }));
    const streamed = new Uint8Array(await res.arrayBuffer());
    const id = res.headers.get("x-audio-id")!;
    const onB = await pair.b.api(`/audio/${id}`);
    expect(onB.status).toBe(200);
    expect(onB.headers.get("content-type")).toBe("audio/aac");
    expect(Buffer.from(onB.bytes).equals(Buffer.from(streamed))).toBe(true);
  });
});

describe("a rate limit shared by both instances", () => {
  let pair: GatewayPair;
  beforeAll(async () => {
    pair = await startGatewayPair(redis.url, { rateLimit: { windowMs: 60_000, synthesize: 3, upload: 100, read: 1000 } });
  });
  afterAll(() => pair?.close());

  it("3 per minute: A, B, A pass with the shared count; the 4th on either is 429", async () => {
    const synth = (gw: GatewayPair["a"]) => gw.api("/synthesize", jsonPost({ text: "Counted.", voice: "builtin:中文女" }));
    const remaining = [];
    for (const gw of [pair.a, pair.b, pair.a]) {
      const res = await synth(gw);
      expect(res.status).toBe(201);
      remaining.push(res.headers.get("ratelimit"));
    }
    expect(remaining.map((h) => /r=(\d+)/.exec(h ?? "")?.[1])).toEqual(["2", "1", "0"]);
    for (const gw of [pair.b, pair.a]) {
      const res = await synth(gw);
      expect(res.status).toBe(429);
      expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:rate-limited");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    // Reads have their own quota, untouched by the synthesis ones.
    expect((await pair.b.api("/voices")).status).toBe(200);
  });
});

describe("startGateway with STORE=redis (what main runs)", () => {
  it("two listening gateways share a voice; an unreachable REDIS_URL stops start-up", async () => {
    const logger = pino({ level: "silent" });
    const config = defaultConfig({
      port: 0,
      host: "127.0.0.1",
      store: "redis",
      redisUrl: redis.url,
      redisKeyPrefix: `main-${Date.now()}:`,
      cosyvoiceUrls: [`http://127.0.0.1:${await freePort()}`],
      healthCheckIntervalMs: 0,
    });
    const one = await startGateway({ ...config, dataDir: mkdtempSync(join(tmpdir(), "gw-one-")) }, logger);
    const two = await startGateway({ ...config, dataDir: mkdtempSync(join(tmpdir(), "gw-two-")) }, logger);
    try {
      const created = await fetch(`${one.url}/voices`, { method: "POST", body: voiceForm({ audio: makeWav({ sampleRate: 16_000, seconds: 1 }), name: "Main" }) });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      const seen = await fetch(`${two.url}/voices/${id}`);
      expect(seen.status).toBe(200);
      expect(((await seen.json()) as { name: string }).name).toBe("Main");
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
    const closed = `redis://127.0.0.1:${await freePort()}`;
    await expect(startGateway({ ...config, redisUrl: closed }, logger)).rejects.toThrow(/Redis at REDIS_URL does not answer/);
  });
});
