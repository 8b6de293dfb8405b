/**
 * Two gateway processes on one real redis-server (append-only file, fsync every second, as
 * deploy/scale-out runs it). While Redis is down every request that needs it is answered 503
 * quickly (never a hang), `/readyz` says the shared store is the reason, and once Redis is back
 * on the same address both instances serve again within seconds, without a restart; what was
 * acknowledged before the outage (a voice, a clip) is still there.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedis, startStandin, synthWav, voiceForm, type RedisHandle, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startGatewayProcess, type Answer, type Proc } from "./helpers/scale-out.ts";

const VOICE = "builtin:中文女";
const dir = mkdtempSync(join(tmpdir(), "redis-aof-"));
let redis: RedisHandle;
let standin: StandinHandle;
const gateways: Proc[] = [];
const prefix = `outage-${randomUUID().slice(0, 8)}:`;

function problem(a: Answer): { type?: string; detail?: string; title?: string } {
  return JSON.parse(a.body.toString()) as { type?: string; detail?: string };
}

describe("a Redis outage", () => {
  let voiceId: string;
  let clipUrl: string;
  beforeAll(async () => {
    [redis, standin] = await Promise.all([startRedis({ dir, appendFsync: "everysec" }), startStandin({ model: "cosyvoice1" })]);
    for (let i = 0; i < 2; i++) {
      gateways.push(await startGatewayProcess({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, COSYVOICE_URL: standin.url, COSYVOICE_MODEL: "cosyvoice1", HEALTH_CHECK_INTERVAL_MS: "1000" }));
    }
    const [a] = gateways as [Proc];
    const created = await fetch(`${a.url}/voices`, { method: "POST", body: voiceForm({ audio: synthWav({ sampleRate: 16_000, seconds: 3, f0: 140 }), name: "Kept", promptText: "Hello, this is my voice." }) });
    expect(created.status).toBe(201);
    voiceId = ((await created.json()) as { id: string }).id;
    const clip = await call(`${a.url}/synthesize`, { json: { text: "Made before the outage.", voice: VOICE } });
    expect(clip.status).toBe(201);
    clipUrl = (JSON.parse(clip.body.toString()) as { url: string }).url;
    // everysec: what was acknowledged more than a second ago is on disk.
    await new Promise((r) => setTimeout(r, 1_200));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await standin?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("while it is down: 503 store-unavailable within 2 s for every door, and /readyz says why", async () => {
    await redis.stop();
    for (const g of gateways) {
      const answers = await Promise.all([
        call(`${g.url}/synthesize`, { json: { text: "Redis is away.", voice: VOICE } }),
        call(`${g.url}/voices`),
        call(`${g.url}/v1/audio/speech`, { json: { model: "tts-1", input: "Redis is away.", voice: VOICE } }),
        call(`${g.url}${clipUrl}`),
      ]);
      for (const a of answers) {
        expect(a.status).toBe(503);
        expect(a.ms).toBeLessThan(2_000);
        expect(a.headers.get("retry-after")).toMatch(/^\d+$/);
      }
      expect(problem(answers[0]!).type).toBe("urn:cosyvoice3-gateway:problem:store-unavailable");
      const ready = await call(`${g.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.ms).toBeLessThan(2_000);
      expect(problem(ready).type).toBe("urn:cosyvoice3-gateway:problem:store-unavailable");
      expect(problem(ready).detail).toMatch(/shared store/i);
      // The process itself lives: an LB's liveness check keeps it.
      expect((await call(`${g.url}/healthz`)).status).toBe(200);
    }
  });

  it("many requests at once during the outage all end quickly: nothing piles up", async () => {
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => call(`${gateways[i % 2]!.url}/synthesize`, { json: { text: `Pile ${i}.`, voice: VOICE } })));
    expect(answers.every((a) => a.status === 503)).toBe(true);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("once Redis is back on its address, both serve again within seconds, with what was stored before", async () => {
    redis = await startRedis({ port: redis.port, dir, appendFsync: "everysec" });
    const back = performance.now();
    for (const g of gateways) {
      for (;;) {
        if ((await call(`${g.url}/readyz`)).status === 200) break;
        expect(performance.now() - back).toBeLessThan(10_000);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const recoveredMs = performance.now() - back;
    expect(recoveredMs).toBeLessThan(10_000);
    for (const g of gateways) {
      const voices = await call(`${g.url}/voices`);
      expect(voices.status).toBe(200);
      expect(voices.body.toString()).toContain(voiceId);
      expect((await call(`${g.url}${clipUrl}`)).status).toBe(200);
      expect((await call(`${g.url}/synthesize`, { json: { text: "Served after the outage.", voice: VOICE } })).status).toBe(201);
    }
  });
});
