// Two GPU boxes (stand-ins) behind one gateway: jobs go to the box with the fewest outstanding
// jobs (taking turns when even), the health check takes a killed box out and brings it back
// once it answers again, and /readyz reports each box.
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SDK_READY, SDK_SKIP_REASON } from "./helpers/full-stack.ts";
import { jsonPost } from "./helpers/harness.ts";
import { startPoolGateway, synthCalls, until, type PoolGateway } from "./helpers/pool-stack.ts";

// Jobs slow enough (about half a second) that four sent at once are all outstanding together.
const KNOBS = { variant: "official", model: "cosyvoice1", firstChunkDelayMs: 500 } as const;
const SPEAKER = "builtin:中文女";

describe.skipIf(!SDK_READY)(`two backends behind one gateway${SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`}`, () => {
  let a: StandinHandle;
  let b: StandinHandle;
  let stack: PoolGateway;
  const synth = (text = "One.") => stack.gw.api("/synthesize", jsonPost({ text, voice: SPEAKER }));
  const state = (i: number) => stack.pool.status()[i]?.state;

  beforeAll(async () => {
    [a, b] = await Promise.all([startStandin(KNOBS), startStandin(KNOBS)]);
    stack = await startPoolGateway([a.url, b.url], { model: "cosyvoice1", healthCheckIntervalMs: 300, concurrency: 2, queueSize: 2 });
    await until(() => state(0) === "up" && state(1) === "up", "both backends to be checked up");
  });
  afterAll(async () => {
    await stack?.close();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("readyz lists both backends up, by name and never by URL", async () => {
    const res = await stack.gw.api("/readyz");
    expect(res.status).toBe(200);
    expect(res.json.backends.map((x: { name: string; state: string }) => [x.name, x.state])).toEqual([
      ["backend-1", "up"],
      ["backend-2", "up"],
    ]);
    expect(JSON.stringify(res.json)).not.toContain("127.0.0.1");
  });

  it("four jobs at once: two on each backend (fewest outstanding first)", async () => {
    const before = [synthCalls(a.record), synthCalls(b.record)];
    const results = await Promise.all([1, 2, 3, 4].map((n) => synth(`Job ${n}.`)));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect([synthCalls(a.record) - before[0]!, synthCalls(b.record) - before[1]!]).toEqual([2, 2]);
  });

  it("one job after another: the backends take turns", async () => {
    const before = [synthCalls(a.record), synthCalls(b.record)];
    for (let i = 0; i < 4; i++) expect((await synth()).status).toBe(201);
    expect([synthCalls(a.record) - before[0]!, synthCalls(b.record) - before[1]!]).toEqual([2, 2]);
  });

  it("a killed backend is taken out by the health check; jobs succeed on the other; readyz stays ready", async () => {
    const exited = new Promise((r) => a.process.once("exit", r));
    a.process.kill("SIGKILL");
    await exited;
    await until(() => state(0) === "down", "the health check to mark backend-1 down");

    const before = synthCalls(b.record);
    for (let i = 0; i < 3; i++) expect((await synth()).status).toBe(201);
    expect(synthCalls(b.record) - before).toBe(3);

    const ready = await stack.gw.api("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.json.backends[0]).toMatchObject({ name: "backend-1", state: "down", error: "backend-unreachable" });
    expect(ready.json.backends[1]).toMatchObject({ name: "backend-2", state: "up" });
  });

  it("restarted on the same address, it is checked up again and takes jobs", async () => {
    a = await startStandin({ ...KNOBS, port: a.port, record: a.record });
    await until(() => state(0) === "up", "the health check to bring backend-1 back");
    const before = synthCalls(a.record);
    for (let i = 0; i < 4; i++) expect((await synth()).status).toBe(201);
    expect(synthCalls(a.record) - before).toBe(2);
  });

  it("both down: readyz is 503 not-ready naming each backend's state", async () => {
    await Promise.all([a.stop(), b.stop()]);
    // /readyz answers from the pool's known state (it makes no connect of its own for an up
    // box), so it says so once the periodic check has seen both go.
    await until(() => state(0) === "down" && state(1) === "down", "the health check to mark both down");
    const res = await stack.gw.api("/readyz");
    expect(res.status).toBe(503);
    expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:not-ready");
    expect(res.json.detail).toBe("No backend is ready: backend-1 down (backend-unreachable), backend-2 down (backend-unreachable)");
    const synth502 = await synth();
    expect(synth502.status).toBe(502);
    expect(synth502.json.type).toBe("urn:cosyvoice3-gateway:problem:backend-unreachable");
  });
});
