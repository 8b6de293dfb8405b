import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";

const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe("upstream deadline", () => {
  const backend = new FakeBackend();
  let gw: TestGateway;
  beforeAll(async () => {
    backend.delayMs = 30_000;
    gw = await startTestGateway({ backend, config: { upstreamTimeoutMs: 300 } });
  });
  afterAll(() => gw.close());

  it("answers 504 and aborts the job (whole clip and stream)", async () => {
    for (const stream of [false, true]) {
      const res = await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女", stream }));
      expect(res.status).toBe(504);
      expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:deadline-exceeded");
      await until(() => backend.calls.at(-1)?.outcome === "aborted", "the job to be aborted");
    }
  });
});

describe("client disconnect", () => {
  const backend = new FakeBackend();
  let gw: TestGateway;
  beforeAll(async () => {
    backend.delayMs = 30_000;
    gw = await startTestGateway({ backend });
  });
  afterAll(() => gw.close());

  it.each([false, true])("aborts the job when the client goes away (stream: %s)", async (stream) => {
    const before = backend.calls.length;
    const body = JSON.stringify({ text: "Hi.", voice: "builtin:中文女", stream });
    const req = request(gw.url + "/synthesize", { method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } });
    req.on("error", () => undefined);
    req.end(body);
    await until(() => backend.calls.length > before, "the job to start");
    req.destroy();
    await until(() => backend.calls.at(-1)?.outcome === "aborted", "the job to be aborted");
    await until(() => gw.slots.load.running === 0, "the slot to be freed");
  });
});

describe("concurrency cap", () => {
  const backend = new FakeBackend();
  let gw: TestGateway;
  beforeAll(async () => {
    backend.delayMs = 400;
    gw = await startTestGateway({ backend, config: { concurrency: 1, queueSize: 1 } });
  });
  afterAll(() => gw.close());

  it("runs one, queues one, refuses the third at once with 503 + Retry-After", async () => {
    const body = { text: "Hi.", voice: "builtin:中文女" };
    const first = gw.api("/synthesize", jsonPost(body));
    await until(() => gw.slots.load.running === 1, "the first job to run");
    const second = gw.api("/synthesize", jsonPost(body));
    await until(() => gw.slots.load.waiting === 1, "the second job to wait");
    const third = await gw.api("/synthesize", jsonPost(body));
    expect(third.status).toBe(503);
    expect(third.json.type).toBe("urn:cosyvoice3-gateway:problem:busy");
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // The refused request never reached the backend; the others complete.
    expect((await first).status).toBe(201);
    expect((await second).status).toBe(201);
    expect(backend.calls.length).toBe(2);
    expect(gw.slots.load).toEqual({ running: 0, waiting: 0 });
  });

  it("a client that leaves the wait list frees its place without reaching the backend", async () => {
    const calls = backend.calls.length;
    const first = gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }));
    await until(() => gw.slots.load.running === 1, "the first job to run");
    const body = JSON.stringify({ text: "Hi.", voice: "builtin:中文女" });
    const req = request(gw.url + "/synthesize", { method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } });
    req.on("error", () => undefined);
    req.end(body);
    await until(() => gw.slots.load.waiting === 1, "the second job to wait");
    req.destroy();
    await until(() => gw.slots.load.waiting === 0, "the waiter to leave");
    expect((await first).status).toBe(201);
    expect(backend.calls.length).toBe(calls + 1);
  });
});
