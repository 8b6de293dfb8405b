// The Fun-CosyVoice3 English UI: zero-shot, cross-lingual and instruct, all from prompt audio.
import { readRecord, synthWav } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectFetchableClip } from "./helpers/clip.ts";
import { SDK_READY, SDK_SKIP_REASON, startFullStack, type FullStack } from "./helpers/full-stack.ts";
import { jsonPost, voiceForm } from "./helpers/harness.ts";

describe.skipIf(!SDK_READY)(`full stack: cv3-en UI, CosyVoice3${SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`}`, () => {
  let stack: FullStack;
  let voiceId: string;
  beforeAll(async () => {
    stack = await startFullStack({ variant: "cv3-en", model: "cosyvoice3" });
  });
  afterAll(() => stack?.close());

  it("is ready as the cv3-en variant", async () => {
    expect((await stack.gw.api("/readyz")).json.backend).toMatchObject({ variant: "cv3-en", speakers: 0 });
  });

  it("clones a voice by upload and lists it", async () => {
    const created = await stack.gw.api("/voices", {
      method: "POST",
      body: voiceForm({ audio: synthWav({ sampleRate: 24_000, seconds: 3, f0: 220 }), name: "Cara", promptText: "I like long walks." }),
    });
    expect(created.status).toBe(201);
    voiceId = created.json.id;
    expect((await stack.gw.api("/voices")).json.voices).toEqual([created.json]);
  });

  it.each([
    ["clone", {}],
    ["crossLingual", { mode: "crossLingual" }],
    ["instruct", { instruct: { dialect: "sichuan" } }],
    ["instruct", { instruct: "Speak like a pirate." }],
  ] as const)("synthesizes in %s mode (%j)", async (mode, extra) => {
    const res = await stack.gw.api("/synthesize", jsonPost({ text: "The sky is clear. Let us go out.", voice: voiceId, speed: 1.2, seed: 9, ...extra }));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ mode, sampleRate: 24_000 });
    await expectFetchableClip(stack.gw, res.json.url, 24_000);
    const call = readRecord(stack.standin.record).filter((e) => e.event === "call").at(-1)!;
    expect(call["variant"]).toBe("cv3-en");
  });

  it("deletes the voice", async () => {
    expect((await stack.gw.api(`/voices/${voiceId}`, { method: "DELETE" })).status).toBe(204);
  });
});
