/**
 * The article's "10 per second" protects the GPU: on a Gradio route only requests that start
 * work count (joins, uploads, `/call`), never the page, its assets, its config, heartbeats or
 * stream reads, so the page loads at any limit. A spent budget is a 429 problem with
 * Retry-After and the RateLimit headers. The client is its API key, else its address (the
 * proxy's word for it only with TRUST_PROXY); a whitelisted client is never limited.
 */
import type { StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBoxes, startRoutedGateway, tempRoot, type RoutedGateway } from "./helpers/passthrough.ts";

const KEY_A = "key-a-0123456789abcdef";
const KEY_B = "key-b-0123456789abcdef";

const join = (base: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/gradio_api/queue/join`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ data: [], fn_index: 0, session_hash: "rl" }) });

describe("a Gradio route's rate limit counts only requests that start work", () => {
  const tmp = tempRoot("passthrough-ratelimit-");
  let box: StandinHandle;
  let open: RoutedGateway;

  beforeAll(async () => {
    [box] = (await startBoxes(tmp.root, 1)) as [StandinHandle];
    // 3 per minute: a test run never sees the window turn.
    open = await startRoutedGateway(tmp.root, `routes:\n  - path: /cosyvoice/\n    backends: ["${box.url}"]\n    rateLimit: { limit: 3, windowMs: 60000 }\n`);
  });
  afterAll(async () => {
    await open?.close();
    await box?.stop();
    tmp.cleanup();
  });

  it("loads the page, its assets, config and heartbeats any number of times", async () => {
    const page = await (await fetch(`${open.url}/cosyvoice/`)).text();
    const asset = /\.\/assets\/(index-[^"]+\.js)/.exec(page)?.[1];
    expect(asset).toBeDefined();
    for (let i = 0; i < 8; i++) {
      const paths = ["", "config", `assets/${asset}`, "gradio_api/info", "theme.css"];
      for (const p of paths) expect({ p, status: (await fetch(`${open.url}/cosyvoice/${p}`)).status }).toEqual({ p, status: 200 });
      const hb = await fetch(`${open.url}/cosyvoice/gradio_api/heartbeat/rl-${i}`);
      expect(hb.status).toBe(200);
      await hb.body?.cancel();
    }
  });

  it("the fourth join of a minute is a 429 problem with Retry-After and RateLimit headers", async () => {
    const base = `${open.url}/cosyvoice`;
    for (let i = 0; i < 3; i++) expect((await join(base)).status).not.toBe(429);
    const res = await join(base);
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(res.headers.get("ratelimit-policy")).toMatch(/^"cosyvoice"; q=3; w=60/);
    expect(res.headers.get("ratelimit")).toMatch(/r=0/);
    expect(await res.json()).toMatchObject({ type: expect.stringContaining("rate-limited"), status: 429 });
    // An upload starts work too, so it is refused as well; the page still loads.
    expect((await fetch(`${base}/gradio_api/upload`, { method: "POST", body: new FormData() })).status).toBe(429);
    expect((await fetch(`${base}/config`)).status).toBe(200);
  });
});

describe("who a client is", () => {
  const tmp = tempRoot("passthrough-ratelimit-who-");
  let box: StandinHandle;

  beforeAll(async () => {
    [box] = (await startBoxes(tmp.root, 1)) as [StandinHandle];
  });
  afterAll(async () => {
    await box?.stop();
    tmp.cleanup();
  });

  const file = (extra = "") => `routes:\n  - path: /cosyvoice/\n    backends: ["${box.url}"]\n    rateLimit: { limit: 2, windowMs: 60000${extra} }\n`;

  it("each API key has its own budget", async () => {
    const g = await startRoutedGateway(`${tmp.root}/keys`, file(), { apiKeys: [KEY_A, KEY_B] });
    try {
      const base = `${g.url}/cosyvoice`;
      const a = { authorization: `Bearer ${KEY_A}` };
      const b = { authorization: `Bearer ${KEY_B}` };
      for (let i = 0; i < 2; i++) expect((await join(base, a)).status).not.toBe(429);
      expect((await join(base, a)).status).toBe(429);
      expect((await join(base, b)).status).not.toBe(429);
    } finally {
      await g.close();
    }
  });

  it("without TRUST_PROXY a forged X-Forwarded-For buys no new budget; with it, each reported client has its own", async () => {
    const untrusting = await startRoutedGateway(`${tmp.root}/untrusting`, file());
    try {
      const base = `${untrusting.url}/cosyvoice`;
      for (let i = 0; i < 2; i++) expect((await join(base, { "x-forwarded-for": `10.0.0.${i}` })).status).not.toBe(429);
      expect((await join(base, { "x-forwarded-for": "10.0.0.99" })).status).toBe(429);
    } finally {
      await untrusting.close();
    }
    const trusting = await startRoutedGateway(`${tmp.root}/trusting`, file(), { trustProxy: "loopback" });
    try {
      const base = `${trusting.url}/cosyvoice`;
      for (let i = 0; i < 2; i++) expect((await join(base, { "x-forwarded-for": "10.0.0.1" })).status).not.toBe(429);
      expect((await join(base, { "x-forwarded-for": "10.0.0.1" })).status).toBe(429);
      expect((await join(base, { "x-forwarded-for": "10.0.0.2" })).status).not.toBe(429);
    } finally {
      await trusting.close();
    }
  });

  it("a whitelisted address is never limited", async () => {
    const g = await startRoutedGateway(`${tmp.root}/whitelist`, file(", whitelist: [127.0.0.0/8]"));
    try {
      for (let i = 0; i < 5; i++) expect((await join(`${g.url}/cosyvoice`)).status).not.toBe(429);
    } finally {
      await g.close();
    }
  });
});

describe("a plain HTTP route counts every request, as Ocelot does", () => {
  const tmp = tempRoot("passthrough-ratelimit-http-");
  let box: StandinHandle;
  let g: RoutedGateway;

  beforeAll(async () => {
    [box] = (await startBoxes(tmp.root, 1)) as [StandinHandle];
    g = await startRoutedGateway(tmp.root, `routes:\n  - path: /asr/\n    kind: http\n    backends: ["${box.url}"]\n    rateLimit: { limit: 2, windowMs: 60000 }\n`);
  });
  afterAll(async () => {
    await g?.close();
    await box?.stop();
    tmp.cleanup();
  });

  it("the third GET is refused", async () => {
    expect((await fetch(`${g.url}/asr/config`)).status).toBe(200);
    expect((await fetch(`${g.url}/asr/config`)).status).toBe(200);
    expect((await fetch(`${g.url}/asr/config`)).status).toBe(429);
  });
});
