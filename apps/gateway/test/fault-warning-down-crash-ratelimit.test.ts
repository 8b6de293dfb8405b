// The UI warns (422 with its message, never silence), dies mid-job or is not there (502), and a
// client over its quota gets 429 with the headers, all through the real SDK.
import { freePort, synthWav } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectingBackend } from "../src/backends/gradio/driver.ts";
import { SDK_READY, SDK_SKIP_REASON, startFullStack, type FullStack } from "./helpers/full-stack.ts";
import { jsonPost, startTestGateway, voiceForm, type TestGateway } from "./helpers/harness.ts";

const skip = SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`;

describe.skipIf(!SDK_READY)(`backend warning${skip}`, () => {
  let stack: FullStack;
  beforeAll(async () => {
    stack = await startFullStack({ variant: "official", model: "cosyvoice3", forceWarning: true }, { rateLimit: { windowMs: 60_000, synthesize: 2, upload: 10, read: 100 } });
  });
  afterAll(() => stack?.close());

  it("is 422 with the UI's message", async () => {
    const id = (await stack.gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav(), name: "W", promptText: "Hello." }) })).json.id;
    const res = await stack.gw.api("/synthesize", jsonPost({ text: "Hi.", voice: id }));
    expect(res.status).toBe(422);
    expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:backend-warning");
    expect(res.json.detail).toContain("prompt音频为空");
  });

  it("rate limit: over the quota is 429 with RateLimit headers and Retry-After, before reaching the UI", async () => {
    const id = (await stack.gw.api("/voices")).json.voices[0].id;
    await stack.gw.api("/synthesize", jsonPost({ text: "Hi.", voice: id }));
    const res = await stack.gw.api("/synthesize", jsonPost({ text: "Hi.", voice: id }));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(res.headers.get("ratelimit")).toMatch(/^"synthesize"; r=0; t=\d+$/);
    expect(res.headers.get("ratelimit-policy")).toMatch(/^"synthesize"; q=2; w=60/);
  });
});

describe.skipIf(!SDK_READY)(`backend down${skip}`, () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const port = await freePort();
    gw = await startTestGateway({ backend: connectingBackend(`http://127.0.0.1:${port}`, { client: { maxRetries: 0, connectTimeoutMs: 2000 } }) });
  });
  afterAll(() => gw?.close());

  it("is 502 backend-unreachable, without the upstream address, and not ready", async () => {
    for (const res of [await gw.api("/voices"), await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:x" }))]) {
      expect(res.status).toBe(502);
      expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:backend-unreachable");
      expect(JSON.stringify(res.json)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
    }
    expect((await gw.api("/readyz")).status).toBe(503);
  });
});

describe.skipIf(!SDK_READY)(`backend crashes mid-job${skip}`, () => {
  let stack: FullStack;
  beforeAll(async () => {
    stack = await startFullStack({ variant: "official", model: "cosyvoice1", crashAfterChunks: 1, chunkDelayMs: 300 });
  });
  afterAll(() => stack?.close());

  it("is a 502 (never a hang), and readiness goes down", async () => {
    const speaker = (await stack.gw.api("/voices")).json.voices[0].id;
    const res = await stack.gw.api("/synthesize", jsonPost({ text: "One. Two. Three.", voice: speaker }));
    expect(res.status).toBe(502);
    expect(["urn:cosyvoice3-gateway:problem:backend-unreachable", "urn:cosyvoice3-gateway:problem:backend-error"]).toContain(res.json.type);
    expect((await stack.gw.api("/readyz")).status).toBe(503);
  });
});
