import {
  ConnectionError,
  QueueFullError,
  TimeoutError,
  UnsupportedModeError,
  UpstreamError,
  UpstreamWarningError,
  ValidationError,
} from "cosyvoice3-sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";

const backend = new FakeBackend();
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ backend });
});
afterAll(() => gw.close());
afterEach(() => {
  backend.fail = undefined;
  backend.down = false;
  backend.delayMs = 0;
});

const synth = (extra: Record<string, unknown> = {}) => gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女", ...extra }));
const LEAKS = /ECONNREFUSED|10\.1\.2\.3|\/srv|secret|\.py|at [A-Za-z]+ \(|node_modules/;

describe("each SDK error maps to one problem (table keyed by code)", () => {
  it.each([
    [new UpstreamWarningError("prompt音频采样率低于16000"), 422, "backend-warning"],
    [new UnsupportedModeError("instruct", "official", "needs CosyVoice1"), 422, "unsupported-mode"],
    [new ValidationError([{ path: ["promptAudio"], message: "too short", code: "duration" }]), 400, "invalid-request"],
    [new QueueFullError(4000), 503, "backend-queue-full"],
    [new TimeoutError(60_000), 504, "deadline-exceeded"],
    [new ConnectionError("socket hang up http://10.1.2.3:7860/gradio_api/queue/join"), 502, "backend-unreachable"],
    [new UpstreamError("hidden error", "Traceback at /srv/secret/webui.py line 3"), 502, "backend-error"],
  ])("%s -> %i %s", async (err, status, slug) => {
    backend.fail = err;
    for (const stream of [false, true]) {
      const res = await synth({ stream });
      expect(res.status).toBe(status);
      expect(res.json.type).toBe(`urn:cosyvoice3-gateway:problem:${slug}`);
      expect(JSON.stringify(res.json)).not.toMatch(LEAKS);
    }
  });

  it("a warning is 422 carrying the UI's message, not silence", async () => {
    backend.fail = new UpstreamWarningError("prompt音频采样率低于16000");
    const res = await synth();
    expect(res.json.detail).toBe("prompt音频采样率低于16000");
  });

  it("queue full carries Retry-After from the SDK's hint", async () => {
    backend.fail = new QueueFullError(4000);
    const res = await synth();
    expect(res.headers.get("retry-after")).toBe("4");
  });

  it("a backend that is down is 502 on every route that needs it, without the upstream URL", async () => {
    backend.down = true;
    for (const res of [await synth(), await gw.api("/voices"), await gw.api(`/voices/${encodeURIComponent("builtin:中文女")}`)]) {
      expect(res.status).toBe(502);
      expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:backend-unreachable");
      expect(JSON.stringify(res.json)).not.toMatch(LEAKS);
    }
    const ready = await gw.api("/readyz");
    expect(ready.status).toBe(503);
    expect(ready.json.type).toBe("urn:cosyvoice3-gateway:problem:not-ready");
    expect((await gw.api("/healthz")).status).toBe(200);
  });

  it("an error after the first streamed chunk cuts the connection instead of ending cleanly", async () => {
    backend.fail = new UpstreamError("boom");
    backend.failAfterChunks = 1;
    const res = await fetch(gw.url + "/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女", stream: true }));
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
    backend.failAfterChunks = undefined;
    const id = res.headers.get("x-audio-id")!;
    expect((await gw.api(`/audio/${id}`)).status).toBe(404);
  });
});

describe("readyz when the backend is fine", () => {
  it("reports the kind, variant and model", async () => {
    const res = await gw.api("/readyz");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      status: "ready",
      backend: { kind: "gradio", variant: "official", model: "cosyvoice1", gradioVersion: "5.4.0", sampleRate: 22_050, modes: ["pretrained", "clone", "crossLingual", "instruct"], speakers: 2 },
      backends: [{ name: "backend-1", kind: "gradio", doors: ["rest", "v1", "jobs"], state: "up", running: 0, waiting: 0, checkedAt: expect.any(String) }],
    });
  });
});
