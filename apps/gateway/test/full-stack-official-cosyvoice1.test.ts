// The official UI with a CosyVoice1 model: built-in speakers, so all four modes.
import { synthWav } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectFetchableClip } from "./helpers/clip.ts";
import { SDK_READY, SDK_SKIP_REASON, startFullStack, type FullStack } from "./helpers/full-stack.ts";
import { jsonPost, voiceForm } from "./helpers/harness.ts";

describe.skipIf(!SDK_READY)(`full stack: official UI, CosyVoice1${SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`}`, () => {
  let stack: FullStack;
  let voiceId: string;
  let speaker: string;
  beforeAll(async () => {
    stack = await startFullStack({ variant: "official", model: "cosyvoice1" });
  });
  afterAll(() => stack?.close());

  it("lists the built-in speakers and a cloned voice", async () => {
    const created = await stack.gw.api("/voices", {
      method: "POST",
      body: voiceForm({ audio: synthWav({ sampleRate: 16_000, seconds: 4, f0: 110 }), name: "Bo", promptText: "希望你以后能够做的比我还好呦。" }),
    });
    expect(created.status).toBe(201);
    voiceId = created.json.id;
    const voices = (await stack.gw.api("/voices")).json.voices as { id: string; kind: string }[];
    const builtin = voices.filter((v) => v.kind === "builtin");
    expect(builtin.length).toBeGreaterThan(0);
    expect(voices.at(-1)?.id).toBe(voiceId);
    speaker = builtin[0]!.id;
  });

  it.each([
    ["pretrained", () => ({ voice: speaker })],
    ["instruct", () => ({ voice: speaker, instruct: "A happy girl speaking quickly." })],
    ["clone", () => ({ voice: voiceId })],
    ["crossLingual", () => ({ voice: voiceId, mode: "crossLingual" })],
  ] as const)("synthesizes in %s mode at 22050 Hz", async (mode, extra) => {
    const res = await stack.gw.api("/synthesize", jsonPost({ text: "你好。今天天气很好。", ...extra() }));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ mode, sampleRate: 22_050 });
    await expectFetchableClip(stack.gw, res.json.url, 22_050);
  });

  it("deletes the voice", async () => {
    expect((await stack.gw.api(`/voices/${voiceId}`, { method: "DELETE" })).status).toBe(204);
    expect((await stack.gw.api(`/voices/${voiceId}`)).status).toBe(404);
  });
});
