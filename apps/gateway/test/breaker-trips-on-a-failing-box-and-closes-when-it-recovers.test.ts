/**
 * A real stand-in that fails every job (`--fail-rate 1`, a hidden Python error: a box fault)
 * trips its backend's breaker after BREAKER_FAILURES jobs: from then on requests get a fast 503
 * `breaker-open` with Retry-After and the stand-in's record shows no more calls. /readyz and
 * /metrics show the breaker open. Restarted healthy on the same port, the box takes one probe
 * job after BREAKER_OPEN_MS, which closes the breaker. (That input faults never count is pinned
 * in breaker-opens-on-box-faults-not-input-faults.test.ts.)
 */
import { parsePrometheus, readRecord, sampleValue, startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonPost } from "./helpers/harness.ts";
import { startPoolGateway, synthCalls, type PoolGateway } from "./helpers/pool-stack.ts";

const VOICE = "builtin:英文女";
let standin: StandinHandle;
let stack: PoolGateway;
let port: number;

beforeAll(async () => {
  standin = await startStandin({ variant: "official", model: "cosyvoice1", failRate: 1 });
  port = standin.port;
  stack = await startPoolGateway([standin.url], { model: "cosyvoice1", breaker: { failures: 3, openMs: 2_000 } });
}, 90_000);
afterAll(async () => {
  await stack?.close();
  await standin?.stop();
});

const breakerGauge = async () => sampleValue(parsePrometheus(await (await fetch(stack.gw.url + "/metrics")).text()), "cosyvoice_gateway_backend_breaker_state", { backend: "backend-1" });

describe("circuit breaker per backend", () => {
  it("starts closed", async () => {
    expect((await stack.gw.api("/readyz")).json.backends[0].breaker).toBe("closed");
  });

  it("box faults trip it: then a fast 503 with Retry-After, and no more upstream calls", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await stack.gw.api("/synthesize", jsonPost({ text: `Fail ${i}.`, voice: VOICE }));
      expect(r.status).toBe(502);
      expect(r.json.type).toBe("urn:cosyvoice3-gateway:problem:backend-error");
    }
    expect(synthCalls(standin.record)).toBe(3);
    const t = Date.now();
    const refused = await stack.gw.api("/synthesize", jsonPost({ text: "Refused.", voice: VOICE }));
    expect(refused.status).toBe(503);
    expect(refused.json.type).toBe("urn:cosyvoice3-gateway:problem:breaker-open");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Date.now() - t).toBeLessThan(1_000);
    const streamed = await stack.gw.api("/synthesize", jsonPost({ text: "Refused too.", voice: VOICE, stream: true }));
    expect(streamed.status).toBe(503);
    await new Promise((r) => setTimeout(r, 300));
    expect(synthCalls(standin.record)).toBe(3);
    const ready = await stack.gw.api("/readyz");
    expect(ready.json.backends[0].breaker).toBe("open");
    expect(await breakerGauge()).toBe(2);
    const refusals = sampleValue(parsePrometheus(await (await fetch(stack.gw.url + "/metrics")).text()), "cosyvoice_gateway_refusals_total", { reason: "breaker_open" });
    expect(refusals).toBe(2);
  }, 60_000);

  it("a recovered box takes one probe after the wait, which closes the breaker", async () => {
    await standin.stop();
    standin = await startStandin({ variant: "official", model: "cosyvoice1", port });
    await stack.pool.checkAll();
    await new Promise((r) => setTimeout(r, 2_100));
    const probe = await stack.gw.api("/synthesize", jsonPost({ text: "Back again.", voice: VOICE }));
    expect(probe.status).toBe(201);
    expect(readRecord(standin.record).filter((e) => e.event === "call" && e["fn"] === "generate_audio")).toHaveLength(1);
    expect((await stack.gw.api("/readyz")).json.backends[0].breaker).toBe("closed");
    expect(await breakerGauge()).toBe(0);
    expect((await stack.gw.api("/synthesize", jsonPost({ text: "And again.", voice: VOICE }))).status).toBe(201);
  }, 90_000);
});
