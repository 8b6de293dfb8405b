// The default deployment: the official UI with a CosyVoice3 model (no built-in speakers; clone
// and cross-lingual work, instruct is refused before queueing).
import { readRecord, synthWav } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectFetchableClip, isAdts } from "./helpers/clip.ts";
import { SDK_READY, SDK_SKIP_REASON, startFullStack, type FullStack } from "./helpers/full-stack.ts";
import { jsonPost, voiceForm } from "./helpers/harness.ts";

describe.skipIf(!SDK_READY)(`full stack: official UI, CosyVoice3${SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`}`, () => {
  let stack: FullStack;
  let voiceId: string;
  beforeAll(async () => {
    stack = await startFullStack({ variant: "official", model: "cosyvoice3" });
  });
  afterAll(() => stack?.close());

  it("is ready, with the variant recognised", async () => {
    const res = await stack.gw.api("/readyz");
    expect(res.status).toBe(200);
    expect(res.json.backend).toMatchObject({ variant: "official", model: "cosyvoice3", speakers: 0 });
  });

  it("clones a voice by upload and lists it", async () => {
    const created = await stack.gw.api("/voices", {
      method: "POST",
      body: voiceForm({ audio: synthWav({ sampleRate: 24_000, seconds: 3, f0: 140 }), name: "Ann", promptText: "Hello, this is my voice." }),
    });
    expect(created.status).toBe(201);
    voiceId = created.json.id;
    const list = await stack.gw.api("/voices");
    expect(list.json.voices.map((v: { id: string }) => v.id)).toEqual([voiceId]);
  });

  it.each(["clone", "crossLingual"])("synthesizes in %s mode, the clip fetchable whole and by Range", async (mode) => {
    const res = await stack.gw.api("/synthesize", jsonPost({ text: "Good morning. How are you?", voice: voiceId, mode, seed: 3 }));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ mode, sampleRate: 24_000, mimeType: "audio/wav", chunks: 2 });
    await expectFetchableClip(stack.gw, res.json.url, 24_000);
    const call = readRecord(stack.standin.record).filter((e) => e.event === "call").at(-1)!;
    expect(JSON.stringify(call)).toContain("<|endofprompt|>");
  });

  it("streams AAC chunks and keeps the clip", async () => {
    const res = await stack.gw.api("/synthesize", jsonPost({ text: "One sentence. Another one.", voice: voiceId, stream: true }));
    expect(res.status).toBe(200);
    expect(isAdts(res.bytes)).toBe(true);
    const kept = await stack.gw.api(`/audio/${res.headers.get("x-audio-id")}`);
    expect(kept.headers.get("content-type")).toBe("audio/aac");
    expect(Buffer.from(kept.bytes).equals(Buffer.from(res.bytes))).toBe(true);
  });

  it("refuses instruct on this UI with 422 before queueing", async () => {
    const calls = readRecord(stack.standin.record).filter((e) => e.event === "call").length;
    const res = await stack.gw.api("/synthesize", jsonPost({ text: "Hi.", voice: voiceId, instruct: { emotion: "happy" } }));
    expect(res.status).toBe(422);
    expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:unsupported-mode");
    expect(readRecord(stack.standin.record).filter((e) => e.event === "call").length).toBe(calls);
  });

  it("deletes the voice", async () => {
    expect((await stack.gw.api(`/voices/${voiceId}`, { method: "DELETE" })).status).toBe(204);
    expect((await stack.gw.api("/voices")).json.voices).toEqual([]);
  });
});
