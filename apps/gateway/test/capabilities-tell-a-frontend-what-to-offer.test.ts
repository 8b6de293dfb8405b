/**
 * `GET /capabilities` tells a frontend which modes, languages, instruct controls and built-in
 * speakers it can offer, from what the gateway knows of its backend: the cv3-en UI (CosyVoice3:
 * saved voices, typed controls) differs from the official UI with CosyVoice 1 (built-in speakers,
 * free-text instruct) and from the official UI with CosyVoice3 (no instruct at all).
 */
import { DIALECTS } from "cosyvoice3-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capabilitiesOf } from "../src/service/capabilities.ts";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { startFullStack, type FullStack } from "./helpers/full-stack.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";

describe("against the real cv3-en stand-in (the embedded default)", () => {
  let stack: FullStack;
  beforeAll(async () => {
    stack = await startFullStack({ variant: "cv3-en", model: "cosyvoice3" });
  }, 90_000);
  afterAll(() => stack?.close());

  it("offers clone, cross-lingual and instruct with saved voices, the five language tags and every control", async () => {
    const res = await stack.gw.api("/capabilities");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      backend: { variant: "cv3-en", model: "cosyvoice3" },
      modes: ["clone", "crossLingual", "instruct"],
      voices: { builtin: [], saved: true },
      modeVoices: { clone: ["cloned"], crossLingual: ["cloned"], instruct: ["cloned"] },
      instruct: { voice: "cloned", freeText: true },
      limits: { textMaxChars: 2000, speed: { min: 0.5, max: 2, default: 1 }, seed: { min: 0, max: 4_294_967_295, default: 0 } },
    });
    expect(res.json.languages.map((l: { tag: string }) => l.tag)).toEqual(["<|zh|>", "<|en|>", "<|ja|>", "<|yue|>", "<|ko|>"]);
    expect(res.json.instruct.controls).toEqual({
      dialect: Object.keys(DIALECTS),
      emotion: ["happy", "sad", "angry"],
      volume: ["loud", "soft"],
      pace: ["slow", "fast"],
      role: ["peppaPig", "robot"],
    });
    expect(res.json.responses.map((r: { type: string }) => r.type)).toEqual(["application/json", "audio/aac", "audio/mpeg", "audio/ogg", "audio/flac", "audio/wav", "audio/pcm"]);
  });

  it("every control value it lists is accepted by POST /synthesize's validation", async () => {
    const { instruct } = (await stack.gw.api("/capabilities")).json as { instruct: { controls: Record<string, string[]> } };
    for (const [control, values] of Object.entries(instruct.controls)) {
      for (const value of values) {
        // An unknown voice: validation passes, so the answer is the 404, never a 400.
        const res = await stack.gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "v_AAAAAAAAAAAAAAAAAAAAAA", instruct: { [control]: value } }));
        expect(res.status, `${control}=${value}: ${JSON.stringify(res.json)}`).toBe(404);
      }
    }
  });
});

describe("other backends", () => {
  it("the official UI with CosyVoice 1: built-in speakers, pretrained, free-text instruct with a built-in voice", async () => {
    const gw: TestGateway = await startTestGateway({ backend: new FakeBackend() });
    try {
      const res = await gw.api("/capabilities");
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({
        backend: { variant: "official", model: "cosyvoice1" },
        modes: ["pretrained", "clone", "crossLingual", "instruct"],
        voices: { builtin: ["builtin:中文女", "builtin:英文男"], saved: true },
        modeVoices: { pretrained: ["builtin"], instruct: ["builtin"] },
        instruct: { voice: "builtin", freeText: true, controls: {} },
      });
    } finally {
      await gw.close();
    }
  });

  it("the official UI with CosyVoice3: no instruct (null), no built-in speakers", () => {
    const c = capabilitiesOf([{ variant: "official", model: "cosyvoice3", gradioVersion: "5.4.0", modes: ["clone", "crossLingual"], speakers: [""] }], { maxTextChars: 500 });
    expect(c).toMatchObject({ modes: ["clone", "crossLingual"], instruct: null, voices: { builtin: [] }, limits: { textMaxChars: 500 } });
    expect(c.languages).toHaveLength(5);
  });

  it("a backend not recognised yet is 503 not-ready, with Retry-After", async () => {
    const backend = new FakeBackend();
    backend.down = true;
    const gw = await startTestGateway({ backend });
    try {
      const res = await gw.api("/capabilities");
      expect(res.status).toBe(503);
      expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:not-ready");
      expect(res.headers.get("retry-after")).toBe("2");
      expect(JSON.stringify(res.json)).not.toContain("10.1.2.3");
    } finally {
      await gw.close();
    }
  });
});
