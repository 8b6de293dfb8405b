// The concurrency cap is per backend: two backends with one slot and no wait list each run two
// jobs at once, and the third gets 503 busy at once; a waiting job takes the first slot freed.
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackendPool } from "../src/backends/pool/index.ts";
import { Slots } from "../src/service/caps/slots.ts";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";
import { until } from "./helpers/pool-stack.ts";

const SPEAKER = "builtin:中文女";

describe("two backends, one slot each", () => {
  const backends = [new FakeBackend(), new FakeBackend()];
  let pool: BackendPool;
  let gw: TestGateway;
  beforeAll(async () => {
    for (const b of backends) b.delayMs = 600;
    pool = new BackendPool({
      logger: pino({ level: "silent" }),
      members: backends.map((backend, i) => ({ name: `backend-${i + 1}`, backend, slots: new Slots({ concurrency: 1, queueSize: 0 }) })),
    });
    gw = await startTestGateway({ backend: pool, config: { concurrency: 1, queueSize: 0 } });
  });
  afterAll(() => gw?.close());

  it("three at once: one runs on each backend, the third is 503 busy with Retry-After", async () => {
    const results = await Promise.all([1, 2, 3].map(() => gw.api("/synthesize", jsonPost({ text: "Hi.", voice: SPEAKER }))));
    expect(results.map((r) => r.status).sort()).toEqual([201, 201, 503]);
    const busy = results.find((r) => r.status === 503)!;
    expect(busy.json.type).toBe("urn:cosyvoice3-gateway:problem:busy");
    expect(Number(busy.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(backends.map((b) => b.calls.length)).toEqual([1, 1]);
    await until(() => pool.load.running === 0 && pool.load.waiting === 0, "every slot to be freed");
  });
});

describe("two backends, one slot and a wait list of one each", () => {
  const backends = [new FakeBackend(), new FakeBackend()];
  let pool: BackendPool;
  let gw: TestGateway;
  beforeAll(async () => {
    for (const b of backends) b.delayMs = 400;
    pool = new BackendPool({
      logger: pino({ level: "silent" }),
      members: backends.map((backend, i) => ({ name: `backend-${i + 1}`, backend, slots: new Slots({ concurrency: 1, queueSize: 1 }) })),
    });
    gw = await startTestGateway({ backend: pool, config: { concurrency: 1, queueSize: 1 } });
  });
  afterAll(() => gw?.close());

  it("four at once: two run, two wait (one per backend), all four finish; the fifth is refused", async () => {
    const four = [1, 2, 3, 4].map(() => gw.api("/synthesize", jsonPost({ text: "Hi.", voice: SPEAKER })));
    await until(() => pool.load.running === 2 && pool.load.waiting === 2, "two running and two waiting");
    expect(pool.status().map((b) => [b.running, b.waiting])).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect((await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: SPEAKER }))).status).toBe(503);
    expect((await Promise.all(four)).map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(backends.map((b) => b.calls.length)).toEqual([2, 2]);
  });
});
