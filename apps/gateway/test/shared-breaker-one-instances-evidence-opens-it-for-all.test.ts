/**
 * The breaker shared in a real Redis by three gateway instances' breakers of one box: faults seen
 * by one instance open it for all, one half-open probe is shared (exactly one instance admits a
 * job), its outcome closes or reopens it for all, a prober that dies lets another probe, and
 * input faults count for nothing.
 */
import { randomUUID } from "node:crypto";
import { startRedis, type RedisHandle } from "@cosyvoice3/testkit";
import { UpstreamError, UpstreamWarningError } from "cosyvoice3-sdk";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SharedBreaker } from "../src/backends/breaker/index.ts";

let redis: RedisHandle;
const connections: Redis[] = [];
let breakers: SharedBreaker[] = [];
const boxFault = new UpstreamError("job failed on the box");
const inputFault = new UpstreamWarningError("the UI warned about the input");

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await Promise.all(breakers.map((b) => b.close()));
  breakers = [];
});
afterAll(async () => {
  await Promise.all(connections.map((c) => c.quit()));
  await redis?.stop();
});

/** `n` instances' breakers of one box, each on its own connection, as separate gateways have. */
async function instances(n: number, opts: { halfOpenAfterMs?: number; probeLeaseMs?: number } = {}): Promise<SharedBreaker[]> {
  const key = `test-${randomUUID()}:breaker:http://gpu-1:7860:`;
  for (let i = 0; i < n; i++) {
    const conn = new Redis(redis.url);
    connections.push(conn);
    breakers.push(new SharedBreaker({ redis: conn, key, name: "backend-1", threshold: 3, halfOpenAfterMs: opts.halfOpenAfterMs ?? 400, probeLeaseMs: opts.probeLeaseMs ?? 5_000, refreshMs: 5_000, logger: pino({ level: "silent" }) }));
  }
  await Promise.all(breakers.map((b) => b.ready));
  return breakers;
}

async function until(cond: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("a breaker shared in Redis", () => {
  it("faults seen by two instances add up, and open it on every instance", async () => {
    const [a, b, c] = await instances(3) as [SharedBreaker, SharedBreaker, SharedBreaker];
    a.admit().done(boxFault);
    b.admit().done(boxFault);
    await new Promise((r) => setTimeout(r, 100));
    expect([a.state, b.state, c.state]).toEqual(["closed", "closed", "closed"]);
    b.admit().done(boxFault);
    // c saw nothing itself: the announcement reaches it.
    await until(() => c.state !== "closed");
    expect([a.admits(), b.admits(), c.admits()]).toEqual([false, false, false]);
    expect(c.retryAfterMs()).toBeGreaterThan(0);
  });

  it("input faults and successes in between do not add up", async () => {
    const [a, b] = await instances(2) as [SharedBreaker, SharedBreaker];
    a.admit().done(boxFault);
    b.admit().done(boxFault);
    await new Promise((r) => setTimeout(r, 50));
    b.admit().done(inputFault);
    await new Promise((r) => setTimeout(r, 50));
    a.admit().done(boxFault);
    await new Promise((r) => setTimeout(r, 200));
    expect([a.state, b.state]).toEqual(["closed", "closed"]);
  });

  it("after the open period exactly one instance sends the probe; its success closes it for all", async () => {
    const all = await instances(3);
    for (let i = 0; i < 3; i++) all[0]!.admit().done(boxFault);
    await until(() => all.every((b) => b.state !== "closed"));
    await until(() => all.some((b) => b.admits()), 3_000);
    await new Promise((r) => setTimeout(r, 100));
    const admitting = all.filter((b) => b.admits());
    expect(admitting).toHaveLength(1);
    expect(all.every((b) => b.state === "half-open")).toBe(true);
    const probe = admitting[0]!.admit();
    expect(admitting[0]!.admits()).toBe(false);
    probe.done();
    await until(() => all.every((b) => b.state === "closed"));
    expect(all.every((b) => b.admits())).toBe(true);
  });

  it("a failed probe opens it again for all, for another open period", async () => {
    const all = await instances(2);
    for (let i = 0; i < 3; i++) all[1]!.admit().done(boxFault);
    await until(() => all.every((b) => b.state !== "closed"));
    await until(() => all.some((b) => b.admits()), 3_000);
    const prober = all.find((b) => b.admits())!;
    prober.admit().done(boxFault);
    await until(() => all.every((b) => b.state === "open"));
    expect(all.every((b) => !b.admits())).toBe(true);
    // And the next period brings one probe again.
    await until(() => all.some((b) => b.admits()), 3_000);
    expect(all.filter((b) => b.admits())).toHaveLength(1);
  });

  it("an instance that took the probe and died: another probes once its lease lapses", async () => {
    const all = await instances(2, { probeLeaseMs: 600 });
    for (let i = 0; i < 3; i++) all[0]!.admit().done(boxFault);
    await until(() => all.every((b) => b.state !== "closed"));
    await until(() => all.some((b) => b.admits()), 3_000);
    const dead = all.find((b) => b.admits())!;
    const other = all.find((b) => b !== dead)!;
    // The prober sends its job and its process dies: it never reports the outcome.
    dead.admit();
    await dead.close();
    expect(other.admits()).toBe(false);
    await until(() => other.admits(), 3_000);
    other.admit().done();
    await until(() => other.state === "closed");
  });
});
