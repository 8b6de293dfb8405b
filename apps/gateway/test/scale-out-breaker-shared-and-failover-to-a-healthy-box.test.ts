/**
 * Two gateway processes on one real Redis in front of two real stand-ins, one of which fails
 * every job (`--fail-rate 1`: a hidden error after the box accepted the job, a box fault):
 * - each job the failing box takes runs once more on the healthy box, so the caller gets 201;
 * - the faults one gateway saw open the breaker on the other, which then sends the failing box
 *   nothing although it saw no fault itself;
 * - after the open period exactly one probe job reaches the failing box, whichever gateway
 *   the requests arrive at.
 */
import { randomUUID } from "node:crypto";
import { readRecord, startRedis, startStandin, waitForRecord, type RedisHandle, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startGatewayProcess, type Proc } from "./helpers/scale-out.ts";

const OPEN_MS = 15_000;
/** When the breaker opened (about: when the failing box had its second job). */
let openedAt = 0;
const VOICE = "builtin:中文女";
let redis: RedisHandle;
let failing: StandinHandle;
let healthy: StandinHandle;
const gateways: Proc[] = [];
const jobs = (s: StandinHandle) => readRecord(s.record).filter((e) => e.event === "call" && e["fn"] === "generate_audio").length;
let seed = 100;
const synth = (g: Proc) => call(`${g.url}/synthesize`, { json: { text: "A job for any healthy box.", voice: VOICE, seed: seed++ } });

async function breakerOf(g: Proc): Promise<number | undefined> {
  const text = (await call(`${g.url}/metrics`)).body.toString();
  const m = /^cosyvoice_gateway_backend_breaker_state\{backend="backend-1"\} (\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

describe("a breaker shared by two gateways, and failover after a box fault", () => {
  beforeAll(async () => {
    [redis, failing, healthy] = await Promise.all([startRedis(), startStandin({ model: "cosyvoice1", failRate: 1 }), startStandin({ model: "cosyvoice1" })]);
    const prefix = `breaker-${randomUUID().slice(0, 8)}:`;
    for (let i = 0; i < 2; i++) {
      gateways.push(
        await startGatewayProcess({
          REDIS_URL: redis.url,
          REDIS_KEY_PREFIX: prefix,
          COSYVOICE_URL: `${failing.url},${healthy.url}`,
          COSYVOICE_MODEL: "cosyvoice1",
          BREAKER_FAILURES: "2",
          BREAKER_OPEN_MS: String(OPEN_MS),
          HEALTH_CHECK_INTERVAL_MS: "0",
          CACHE_MAX_BYTES: "0",
          // Room on the healthy box for every job of the tests, over both instances.
          QUEUE_SIZE: "16",
        }),
      );
    }
  }, 120_000);
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await Promise.all([failing?.stop(), healthy?.stop()]);
    await redis?.stop();
  });

  it("gateway A's jobs that the failing box takes run again on the healthy one: every caller gets 201", async () => {
    const [a] = gateways as [Proc];
    for (let i = 0; jobs(failing) < 2; i++) {
      expect(i).toBeLessThan(20);
      expect((await synth(a)).status).toBe(201);
    }
    openedAt = Date.now();
    expect(jobs(failing)).toBe(2);
  });

  it("gateway B, which saw no fault, has the breaker open too, and sends the failing box nothing", async () => {
    const [, b] = gateways as [Proc, Proc];
    const before = jobs(failing);
    const healthyBefore = jobs(healthy);
    for (let i = 0; i < 3; i++) expect((await synth(b)).status).toBe(201);
    // Still within the open period: this test is void if the machine was too slow for it.
    expect(Date.now() - openedAt).toBeLessThan(OPEN_MS);
    expect(jobs(failing)).toBe(before);
    expect(jobs(healthy)).toBe(healthyBefore + 3);
    // 1 = open, 2 = half-open in the gauge; 0 is closed.
    expect(await breakerOf(b)).not.toBe(0);
  });

  it("after the open period one probe reaches the failing box, whichever gateway the jobs come to", async () => {
    await new Promise((r) => setTimeout(r, Math.max(0, openedAt + OPEN_MS + 1_000 - Date.now())));
    const before = jobs(failing);
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => synth(gateways[i % 2]!)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201));
    await waitForRecord(failing.record, () => jobs(failing) >= before + 1, 5_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(jobs(failing)).toBe(before + 1);
    // The probe failed: open again on both.
    for (const g of gateways) expect(await breakerOf(g)).not.toBe(0);
  });
});
