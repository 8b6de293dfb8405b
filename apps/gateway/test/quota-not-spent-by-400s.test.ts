/**
 * Rate limits count requests that reached work. A client that makes ten mistakes in a minute
 * (each refused with a 4xx) and then sends a good request is not locked out by its own
 * mistakes; requests that did reach the backend still count, and so do 429s and answers that
 * failed upstream.
 */
import { synthWav } from "@cosyvoice3/testkit";
import { UpstreamWarningError } from "cosyvoice3-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refusedAsBadInput } from "../src/platform/middleware/rate-limit.ts";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { jsonPost, startTestGateway, voiceForm, type TestGateway } from "./helpers/harness.ts";

const backend = new FakeBackend();
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ backend, config: { rateLimit: { windowMs: 60_000, synthesize: 3, upload: 2, read: 100 } } });
});
afterAll(() => gw.close());

const remaining = (res: { headers: Headers }) => Number(/r=(\d+)/.exec(res.headers.get("ratelimit") ?? "")?.[1]);

describe("the upload quota (2 a minute here)", () => {
  it("ten 400s, then an upload: 201, not 429", async () => {
    for (let i = 0; i < 10; i++) {
      const form = new FormData();
      form.set("name", "Ann"); // no file: 400
      const res = await gw.api("/voices", { method: "POST", body: form });
      expect(res.status).toBe(400);
    }
    const res = await gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav(), name: "Ann", promptText: "Hello, this is my voice." }) });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(remaining(res)).toBe(1);
  });

  it("uploads that did work still count: the third in the window is 429", async () => {
    expect((await gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav(), name: "Bo" }) })).status).toBe(201);
    const third = await gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav(), name: "Cy" }) });
    expect(third.status).toBe(429);
    expect(third.json.detail).toMatch(/requests refused as invalid do not count/);
  });
});

describe("the synthesis quota (3 a minute here)", () => {
  it("400s, 404s, 415s and 406s are given back; 201s and upstream failures count", async () => {
    const bad = [
      jsonPost({ text: "Hi." }), // 400: no voice
      jsonPost({ text: "Hi.", voice: "v_AAAAAAAAAAAAAAAAAAAAAA" }), // 404
      { method: "POST", headers: { "content-type": "text/plain" }, body: "Hi." }, // 415
      jsonPost({ text: "Hi.", voice: "builtin:中文女" }, { accept: "audio/x-matroska" }), // 406
      jsonPost({ text: "Hi.", voice: "builtin:中文女", mode: "clone" }), // 422 voice-mode-mismatch
    ];
    for (const init of bad) {
      const res = await gw.api("/synthesize", init);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    const ok = await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }));
    expect(ok.status).toBe(201);
    expect(remaining(ok)).toBe(2);

    // The backend ran the job and warned (422 backend-warning): that was work, it counts.
    backend.fail = new UpstreamWarningError("Prompt audio is empty");
    try {
      const warned = await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }));
      expect(warned.status).toBe(422);
      expect(warned.json.type).toBe("urn:cosyvoice3-gateway:problem:backend-warning");
      expect(remaining(warned)).toBe(1);
    } finally {
      backend.fail = undefined;
    }
    expect((await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }))).status).toBe(201);
    expect((await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }))).status).toBe(429);
  });
});

describe("which answers give the request back", () => {
  it.each([
    [400, "invalid_request", true],
    [404, "voice_not_found", true],
    [413, "payload_too_large", true],
    [422, "voice_mode_mismatch", true],
    [422, "upstream_warning", false],
    [429, "rate_limited", false],
    [201, undefined, false],
    [502, "connection", false],
    [503, "busy", false],
  ] as const)("%i %s -> %s", (status, code, given) => {
    expect(refusedAsBadInput(status, code)).toBe(given);
  });
});
