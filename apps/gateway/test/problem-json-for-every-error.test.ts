import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";
import { Contract } from "./helpers/contract.ts";

const backend = new FakeBackend();
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ backend, config: { maxJsonBytes: 1024, maxTextChars: 50 } });
});
afterAll(() => gw.close());

describe("body parsing attacks and mistakes", () => {
  it("malformed JSON is 400 malformed-json", async () => {
    const res = await gw.api("/synthesize", { method: "POST", headers: { "content-type": "application/json" }, body: '{"text": "hi",' });
    expect(res.status).toBe(400);
    expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:malformed-json");
  });

  it("a JSON body over the cap is 413 before it is parsed", async () => {
    const res = await gw.api("/synthesize", jsonPost({ text: "x".repeat(5000), voice: "builtin:中文女" }));
    expect(res.status).toBe(413);
  });

  it("text over the configured cap is 400 at /text", async () => {
    const res = await gw.api("/synthesize", jsonPost({ text: "x".repeat(51), voice: "builtin:中文女" }));
    expect(res.status).toBe(400);
    expect(res.json.errors[0]).toMatchObject({ pointer: "/text" });
  });

  it.each(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])("Content-Type %s is 415", async (type) => {
    const res = await gw.api("/synthesize", { method: "POST", headers: { "content-type": type }, body: "text=hi" });
    expect(res.status).toBe(415);
    expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:unsupported-media-type");
  });

  it("a JSON array or scalar is 400, not a crash", async () => {
    for (const body of ["[]", '"text"', "null"]) {
      const res = await gw.api("/synthesize", { method: "POST", headers: { "content-type": "application/json" }, body });
      expect(res.status).toBe(400);
    }
  });

  it("a __proto__ key does not pollute, it is an unknown field", async () => {
    const res = await gw.api("/synthesize", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"text":"hi","voice":"builtin:中文女","__proto__":{"polluted":true}}',
    });
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect([201, 400]).toContain(res.status);
  });
});

describe("routing errors", () => {
  it("an unknown path is 404 problem+json", async () => {
    const res = await gw.api("/nope");
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ type: "urn:cosyvoice3-gateway:problem:not-found", status: 404, instance: "/nope" });
  });

  it("a wrong method is 405 with Allow", async () => {
    const res = await gw.api("/synthesize");
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect((await gw.api("/voices", { method: "PUT" })).headers.get("allow")).toBe("GET, POST, HEAD");
  });
});

describe("request ids", () => {
  it("echoes a plain X-Request-Id into the header and the problem", async () => {
    const res = await gw.api("/nope", { headers: { "x-request-id": "trace-abc.123" } });
    expect(res.headers.get("x-request-id")).toBe("trace-abc.123");
    expect(res.json.requestId).toBe("trace-abc.123");
  });

  it("replaces an id that could inject into logs or headers", async () => {
    const res = await gw.api("/healthz", { headers: { "x-request-id": "a b<script>\"".padEnd(200, "x") } });
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("generates one when absent, different each time", async () => {
    const a = (await gw.api("/healthz")).headers.get("x-request-id");
    const b = (await gw.api("/healthz")).headers.get("x-request-id");
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
  });
});

describe("the contract checker itself", () => {
  it("fails a body that does not match its schema, and an undocumented status", () => {
    const c = new Contract();
    expect(() => c.check("GET", "/voices", 200, "application/json", { voices: [{ id: 1 }] })).toThrow(/does not match/);
    expect(() => c.check("GET", "/healthz", 418, "application/problem+json", { type: "urn:cosyvoice3-gateway:problem:x", title: "t", status: 418 })).toThrow(/not documented/);
    expect(() => c.check("GET", "/nope", 404, "application/json", { error: "x" })).toThrow();
  });
});
