/**
 * Browser frontends on another origin: preflights are answered before auth and rate limits,
 * allowed origins get the CORS headers (and may read ids, quotas and retry hints), others get
 * none, and the default sends none at all (same-origin only).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { startTestGateway, type TestGateway } from "./helpers/harness.ts";

const KEY = "key-cors-0123456789abcdef0123456789";
const APP = "https://app.example.com";

describe("CORS_ORIGINS set", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      backend: new FakeBackend(),
      config: { apiKeys: [KEY], corsOrigins: [APP], rateLimit: { windowMs: 60_000, synthesize: 1, upload: 1, read: 1 } },
    });
  });
  afterAll(() => gw.close());

  it("answers the preflight of an allowed origin with 204, before the key check and the rate limit", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await gw.api("/synthesize", {
        method: "OPTIONS",
        headers: { origin: APP, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe(APP);
      expect(res.headers.get("access-control-allow-methods")).toContain("POST");
      expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
      expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    }
  });

  it("lets an allowed origin read the request id and the quota headers", async () => {
    const res = await gw.api("/voices", { headers: { origin: APP, authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    const exposed = (res.headers.get("access-control-expose-headers") ?? "").toLowerCase();
    for (const h of ["x-request-id", "x-audio-id", "retry-after", "ratelimit", "content-range"]) expect(exposed).toContain(h);
  });

  it("gives another origin no CORS headers (the browser then hides the answer)", async () => {
    const res = await gw.api("/voices", { headers: { origin: "https://evil.example.net", authorization: `Bearer ${KEY}` } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const pre = await gw.api("/voices", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example.net", "access-control-request-method": "GET" },
    });
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("problem answers carry the CORS headers too, so a frontend can read the error", async () => {
    const res = await gw.api("/voices", { headers: { origin: APP } });
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
  });
});

describe("CORS_ORIGINS unset (the default)", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ backend: new FakeBackend() });
  });
  afterAll(() => gw.close());

  it("sends no CORS headers at all", async () => {
    const res = await gw.api("/voices", { headers: { origin: APP } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});
