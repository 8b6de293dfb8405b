// /readyz needs no key, so it must not make the gateway connect to its backends per request:
// it answers from what the pool knows. Connects are counted on a proxy in front of a real
// stand-in (each SDK connect reads the UI's /config once).
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SDK_READY, SDK_SKIP_REASON } from "./helpers/full-stack.ts";
import { jsonPost } from "./helpers/harness.ts";
import { startPoolGateway, type PoolGateway } from "./helpers/pool-stack.ts";

/** A pass-through proxy that counts /config requests, and can refuse everything (a dead box). */
async function countingProxy(target: string) {
  const state = { configs: 0, refusing: false };
  const server: Server = createServer((req, res) => {
    if (/\/config(\?|$)/.test(req.url ?? "")) state.configs++;
    if (state.refusing) {
      req.socket.destroy();
      return;
    }
    const up = request(new URL(req.url ?? "/", target), { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(r)) };
}

describe.skipIf(!SDK_READY)(`/readyz makes no backend connects${SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`}`, () => {
  let standin: StandinHandle;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let stack: PoolGateway;
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice1" });
    proxy = await countingProxy(standin.url);
    // No periodic check: every connect counted here comes from requests.
    stack = await startPoolGateway([proxy.url], { model: "cosyvoice1", healthCheckIntervalMs: 0 });
  });
  afterAll(async () => {
    await stack?.close();
    await proxy?.close();
    await standin?.stop();
  });

  it("a box never seen is checked once, however many ask at once", async () => {
    const first = await Promise.all(Array.from({ length: 20 }, () => stack.gw.api("/readyz")));
    expect(first.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(proxy.state.configs).toBe(1);
  });

  it("while up: 100 more readiness answers (50 at once, 50 in a row) and no connect", async () => {
    const before = proxy.state.configs;
    const together = await Promise.all(Array.from({ length: 50 }, () => stack.gw.api("/readyz")));
    expect(together.every((r) => r.status === 200 && r.json.backends[0].state === "up")).toBe(true);
    for (let i = 0; i < 50; i++) expect((await stack.gw.api("/readyz")).status).toBe(200);
    expect(proxy.state.configs - before).toBe(0);
  });

  it("a synthesis in between uses the connected client: still no connect", async () => {
    const before = proxy.state.configs;
    expect((await stack.gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }))).status).toBe(201);
    expect((await stack.gw.api("/readyz")).status).toBe(200);
    expect(proxy.state.configs - before).toBe(0);
  });

  it("once the box is down: 100 not-ready answers cost a bounded few connect attempts, not one each", async () => {
    proxy.state.refusing = true;
    // A job finds it gone (the box is marked down), as the periodic check would.
    expect((await stack.gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }))).status).toBe(502);
    const before = proxy.state.configs;
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 50 }, () => stack.gw.api("/readyz")));
    for (let i = 0; i < 50; i++) answers.push(await stack.gw.api("/readyz"));
    expect(answers.every((r) => r.status === 503 && r.json.type.endsWith(":not-ready"))).toBe(true);
    // A burst of three rechecks, then one per second: the bound grows with time, not with requests.
    const seconds = Math.ceil((Date.now() - started) / 1000);
    expect(proxy.state.configs - before).toBeLessThanOrEqual(3 + seconds);
    expect(proxy.state.configs - before).toBeGreaterThanOrEqual(1);
  });

  it("back up: the next readiness question finds it (a recheck of a down box is allowed again)", async () => {
    proxy.state.refusing = false;
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await stack.gw.api("/readyz")).status).toBe(200);
  });
});
