/**
 * Two gateway processes on one real Redis, behind the scale-out profile's real nginx, in front
 * of one real stand-in: the same request at both gateways at once runs one job on the box and
 * both callers get the leader's audio (whole clips and streams); a follower whose leader dies
 * runs the job itself once the leader's lease lapses; the LB spreads requests over both and
 * keeps answering when one instance is killed; a killed instance's job slots come back within
 * SLOT_LEASE_MS.
 */
import { randomUUID } from "node:crypto";
import { readRecord, startRedis, startStandin, waitForRecord, type NginxHandle, type RedisHandle, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, nginxBinary, startGatewayProcess, startLoadBalancer, type Proc } from "./helpers/scale-out.ts";

const LEASE_MS = 1_500;
const VOICE = "builtin:中文女";

let redis: RedisHandle;
let standin: StandinHandle;
let lb: NginxHandle;
const gateways: Proc[] = [];

function jobsOnTheBox(): number {
  return readRecord(standin.record).filter((e) => e.event === "call" && e["fn"] === "generate_audio").length;
}

async function gateway(): Promise<Proc> {
  return startGatewayProcess({
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    COSYVOICE_URL: standin.url,
    COSYVOICE_MODEL: "cosyvoice1",
    SLOT_LEASE_MS: String(LEASE_MS),
    CONCURRENCY: "2",
    QUEUE_SIZE: "4",
    HEALTH_CHECK_INTERVAL_MS: "1000",
  });
}

const prefix = `scale-${randomUUID().slice(0, 8)}:`;

describe.skipIf(!nginxBinary())("identical requests at two gateways run one job", () => {
  beforeAll(async () => {
    [redis, standin] = await Promise.all([startRedis(), startStandin({ model: "cosyvoice1", firstChunkDelayMs: 1_500 })]);
    gateways.push(await gateway(), await gateway());
    lb = await startLoadBalancer(gateways.map((g) => g.url));
    for (const g of gateways) expect((await call(`${g.url}/readyz`)).status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await lb?.stop();
    await Promise.all(gateways.map((g) => g.stop()));
    await standin?.stop();
    await redis?.stop();
  });

  it("a whole clip: one job on the box, both callers get the same audio as clips of their own", async () => {
    const [a, b] = gateways as [Proc, Proc];
    const before = jobsOnTheBox();
    const body = { text: "One job for two gateways.", voice: VOICE, seed: 11 };
    const first = call(`${a.url}/synthesize`, { json: body });
    await waitForRecord(standin.record, () => jobsOnTheBox() > before);
    const [ra, rb] = await Promise.all([first, call(`${b.url}/synthesize`, { json: body })]);
    expect([ra.status, rb.status]).toEqual([201, 201]);
    expect(jobsOnTheBox()).toBe(before + 1);
    const [ja, jb] = [JSON.parse(ra.body.toString()), JSON.parse(rb.body.toString())];
    expect(ja.id).not.toBe(jb.id);
    const [wa, wb] = await Promise.all([call(`${a.url}${ja.url}`), call(`${b.url}${jb.url}`)]);
    expect(wa.body.length).toBeGreaterThan(1_000);
    expect(wb.body.equals(wa.body)).toBe(true);
  });

  it("a stream: the follower gets the leader's chunks as they come, the same bytes, one job", async () => {
    const [a, b] = gateways as [Proc, Proc];
    const before = jobsOnTheBox();
    const body = { text: "One stream for two gateways. It has two sentences.", voice: VOICE, seed: 12, stream: true };
    const first = call(`${b.url}/synthesize`, { json: body });
    await waitForRecord(standin.record, () => jobsOnTheBox() > before);
    const [rb, ra] = await Promise.all([first, call(`${a.url}/synthesize`, { json: body })]);
    expect([rb.status, ra.status]).toEqual([200, 200]);
    expect(rb.headers.get("content-type")).toBe("audio/aac");
    expect(ra.body.length).toBeGreaterThan(1_000);
    expect(ra.body.equals(rb.body)).toBe(true);
    expect(jobsOnTheBox()).toBe(before + 1);
    // The follower's clip is its own, kept under its own id, with the same bytes.
    const kept = await call(`${a.url}/audio/${ra.headers.get("x-audio-id")}`);
    expect(kept.body.equals(ra.body)).toBe(true);
  });

  it("through nginx: requests reach both instances, and nothing fails while one is killed and restarted", async () => {
    const counts = async (g: Proc) => {
      const text = (await call(`${g.url}/metrics`)).body.toString();
      return [...text.matchAll(/^cosyvoice_gateway_http_requests_total\{[^}]*route="\/voices"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    };
    const before = await Promise.all(gateways.map(counts));
    for (let i = 0; i < 20; i++) expect((await call(`${lb.url}/voices`)).status).toBe(200);
    const after = await Promise.all(gateways.map(counts));
    const spread = after.map((n, i) => n - (before[i] ?? 0));
    expect(spread.reduce((x, y) => x + y, 0)).toBe(20);
    expect(Math.min(...spread)).toBeGreaterThan(0);

    const killed = gateways[1]!;
    await killed.kill();
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await call(`${lb.url}/voices`)).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const synth = await call(`${lb.url}/synthesize`, { json: { text: "Still served with one instance down.", voice: VOICE, seed: 13 } });
    expect(synth.status).toBe(201);
    gateways[1] = await gateway();
  });

  it("a follower whose leader dies before its end runs the job itself, once the leader's lease lapses", async () => {
    const [a, b] = gateways as [Proc, Proc];
    const before = jobsOnTheBox();
    const body = { text: "The leader of this job will die.", voice: VOICE, seed: 14 };
    const leading = call(`${a.url}/synthesize`, { json: body }).catch((err: unknown) => err);
    await waitForRecord(standin.record, () => jobsOnTheBox() > before);
    const following = call(`${b.url}/synthesize`, { json: body });
    await new Promise((r) => setTimeout(r, 200));
    await a.kill();
    const killedAt = performance.now();
    const rb = await following;
    expect(rb.status).toBe(201);
    expect(await leading).toBeInstanceOf(Error);
    // The second job started after the lease lapsed, not before.
    expect(jobsOnTheBox()).toBe(before + 2);
    expect(performance.now() - killedAt).toBeGreaterThan(LEASE_MS / 2);
    gateways[0] = await gateway();
  });

  // Two gateway processes start inside the test: on a loaded 2-core box that alone can take a minute.
  it("a killed instance's job slots come back within SLOT_LEASE_MS", async () => {
    // A cap of one running job over both instances, nobody waiting.
    const one = await startGatewayProcess({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: `${prefix}one:`, COSYVOICE_URL: standin.url, COSYVOICE_MODEL: "cosyvoice1", SLOT_LEASE_MS: String(LEASE_MS), CONCURRENCY: "1", QUEUE_SIZE: "0", CACHE_MAX_BYTES: "0" });
    const two = await startGatewayProcess({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: `${prefix}one:`, COSYVOICE_URL: standin.url, COSYVOICE_MODEL: "cosyvoice1", SLOT_LEASE_MS: String(LEASE_MS), CONCURRENCY: "1", QUEUE_SIZE: "0", CACHE_MAX_BYTES: "0" });
    try {
      const before = jobsOnTheBox();
      const held = call(`${one.url}/synthesize`, { json: { text: "This job holds the only slot.", voice: VOICE } }).catch((err: unknown) => err);
      await waitForRecord(standin.record, () => jobsOnTheBox() > before);
      expect((await call(`${two.url}/synthesize`, { json: { text: "Refused: the cap is full.", voice: VOICE } })).status).toBe(503);
      await one.kill();
      const killedAt = performance.now();
      expect(await held).toBeInstanceOf(Error);
      let took = 0;
      for (;;) {
        const sentAt = performance.now();
        const r = await call(`${two.url}/synthesize`, { json: { text: "Taken once the lease lapsed.", voice: VOICE } });
        if (r.status === 201) {
          took = sentAt - killedAt;
          break;
        }
        expect(r.status).toBe(503);
        expect(performance.now() - killedAt).toBeLessThan(LEASE_MS + 3_000);
        await new Promise((res) => setTimeout(res, 100));
      }
      // The slot came back within the lease (plus one renewal tick and a poll).
      expect(took).toBeLessThan(LEASE_MS + 500);
    } finally {
      await one.stop();
      await two.stop();
    }
  }, 180_000);
});
