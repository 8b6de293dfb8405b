import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";

const KEY_A = "key-a-0123456789abcdef0123456789";
const KEY_B = "key-b-abcdef0123456789abcdef0123";
const backend = new FakeBackend();
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({
    backend,
    config: { apiKeys: [KEY_A, KEY_B], rateLimit: { windowMs: 60_000, synthesize: 2, upload: 1, read: 5 } },
  });
});
afterAll(() => gw.close());

const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

describe("API keys", () => {
  it("401 without a key, with WWW-Authenticate", async () => {
    const res = await gw.api("/voices");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:unauthorized");
  });

  it.each([`Bearer ${KEY_A}x`, `Bearer ${KEY_A.slice(0, -1)}`, `Basic ${KEY_A}`, KEY_A, "Bearer "])("401 for %j", async (authorization) => {
    expect((await gw.api("/voices", { headers: { authorization } })).status).toBe(401);
  });

  it("accepts every configured key", async () => {
    expect((await gw.api("/voices", { headers: bearer(KEY_A) })).status).toBe(200);
    expect((await gw.api("/voices", { headers: bearer(KEY_B) })).status).toBe(200);
  });

  it("leaves health, readiness and the docs open", async () => {
    for (const path of ["/healthz", "/readyz", "/openapi.json"]) expect((await gw.api(path)).status).toBe(200);
  });

  it("never writes a key into the log", async () => {
    await gw.api("/voices", { headers: bearer(KEY_A) });
    await gw.api("/voices", { headers: bearer(KEY_A + "wrong") });
    const log = gw.logLines.join("\n");
    expect(log).toContain("/voices");
    expect(log).not.toContain("key-a-0123456789");
  });
});

describe("rate limits, per key, per kind", () => {
  it("synthesis: the third call in the window is 429 with RateLimit headers and Retry-After", async () => {
    const body = { text: "Hi.", voice: "builtin:中文女" };
    const first = await gw.api("/synthesize", jsonPost(body, bearer(KEY_A)));
    expect(first.status).toBe(201);
    expect(first.headers.get("ratelimit-policy")).toMatch(/^"synthesize"; q=2; w=60/);
    expect(first.headers.get("ratelimit")).toMatch(/^"synthesize"; r=1; t=\d+/);
    expect((await gw.api("/synthesize", jsonPost(body, bearer(KEY_A)))).status).toBe(201);
    const third = await gw.api("/synthesize", jsonPost(body, bearer(KEY_A)));
    expect(third.status).toBe(429);
    expect(third.json.type).toBe("urn:cosyvoice3-gateway:problem:rate-limited");
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(third.headers.get("ratelimit")).toMatch(/r=0/);
    expect(third.json.retryAfterSeconds).toBe(Number(third.headers.get("retry-after")));
  });

  it("another key has its own quota", async () => {
    expect((await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }, bearer(KEY_B)))).status).toBe(201);
  });

  it("reads are counted apart from synthesis and are more generous", async () => {
    const res = await gw.api("/voices", { headers: bearer(KEY_B) });
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit-policy")).toMatch(/^"read"; q=5;/);
  });
});

describe("anonymous clients are limited per IP", () => {
  it("counts by address when no keys are configured", async () => {
    const open = await startTestGateway({ backend, config: { rateLimit: { windowMs: 60_000, synthesize: 1, upload: 1, read: 100 } } });
    try {
      expect((await open.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }))).status).toBe(201);
      const second = await open.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }));
      expect(second.status).toBe(429);
      expect(second.headers.get("ratelimit-policy")).toMatch(/pk=:[^:]+:/);
    } finally {
      await open.close();
    }
  });
});
