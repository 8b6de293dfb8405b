// The listings Open WebUI reads (`{models:[{id}]}`, `{voices:[{id,name}]}`), OpenAI's model list,
// OpenAI's custom-voice creation (multipart name, audio_sample, consent) becoming one of our
// saved voices, and every way a client names a voice reaching the right one in the UI.
import { readRecord, synthWav } from "@cosyvoice3/testkit";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SDK_READY, SDK_SKIP_REASON, startFullStack, type FullStack } from "./helpers/full-stack.ts";

const customVoiceForm = (fields: { name?: string; consent?: string; prompt_text?: string; audio?: Uint8Array }) => {
  const form = new FormData();
  if (fields.name !== undefined) form.set("name", fields.name);
  if (fields.consent !== undefined) form.set("consent", fields.consent);
  if (fields.prompt_text !== undefined) form.set("prompt_text", fields.prompt_text);
  if (fields.audio) form.set("audio_sample", new Blob([fields.audio.slice()], { type: "audio/wav" }), "sample.wav");
  return form;
};

/** The generate_audio inputs the UI got for the last job. */
const lastCall = (record: string) => {
  const call = readRecord(record).filter((e) => e.event === "call" && e["fn"] === "generate_audio").at(-1)!;
  const inputs = call["inputs"] as Record<string, { value: unknown }>;
  return { mode: inputs["mode_checkbox_group"]?.value, speaker: inputs["sft_dropdown"]?.value, prompt: call["prompt_wav_upload"] };
};

describe.skipIf(!SDK_READY)(`openai listings and voices${SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`}`, () => {
  let stack: FullStack;
  let client: OpenAI;
  let created: { id: string; name: string };
  beforeAll(async () => {
    stack = await startFullStack({ variant: "official", model: "cosyvoice1" }, { model: "cosyvoice1", voiceAliases: { alloy: "中文女", nova: "Bo", onyx: "nobody" } });
    client = new OpenAI({ apiKey: "any", baseURL: `${stack.gw.url}/v1`, maxRetries: 0 });
  });
  afterAll(() => stack?.close());

  it("GET /v1/models: OpenAI's list shape, with the names clients offer", async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(["cosyvoice1", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"]);
    expect((await client.models.retrieve("tts-1")).object).toBe("model");
  });

  it("GET /v1/audio/models: {models:[{id}]}", async () => {
    const res = await stack.gw.api("/v1/audio/models");
    expect(res.status).toBe(200);
    expect(res.json.models).toContainEqual({ id: "tts-1" });
  });

  it("POST /v1/audio/voices: name, audio_sample and consent make a saved voice", async () => {
    const consent = new FormData();
    consent.set("name", "Bo");
    consent.set("language", "zh-CN");
    consent.set("recording", new Blob([synthWav({ sampleRate: 16_000, seconds: 2 }).slice()], { type: "audio/wav" }), "consent.wav");
    const recorded = await stack.gw.api("/v1/audio/voice_consents", { method: "POST", body: consent });
    expect(recorded.status).toBe(200);
    const res = await stack.gw.api("/v1/audio/voices", {
      method: "POST",
      body: customVoiceForm({ name: "Bo", consent: recorded.json.id, prompt_text: "希望你以后能够做的比我还好呦。", audio: synthWav({ sampleRate: 16_000, seconds: 3, f0: 110 }) }),
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ object: "audio.voice", name: "Bo", type: "audio_sample", prompt_text: "希望你以后能够做的比我还好呦。" });
    expect(res.json.id).toMatch(/^v_/);
    created = res.json;
    // The same voice on the REST side.
    expect((await stack.gw.api(`/voices/${created.id}`)).json).toMatchObject({ id: created.id, name: "Bo", kind: "cloned" });
  });

  it.each([
    [{ name: "X", audio: synthWav({ seconds: 2 }) }, "consent"],
    [{ consent: "yes", audio: synthWav({ seconds: 2 }) }, "name"],
    [{ name: "X", consent: "yes" }, "audio_sample"],
  ])("POST /v1/audio/voices without a field (%j): 400 naming it", async (fields, param) => {
    const res = await stack.gw.api("/v1/audio/voices", { method: "POST", body: customVoiceForm(fields) });
    expect(res.status).toBe(400);
    expect(res.json.error.param).toBe(param);
  });

  it("POST /v1/audio/voices with a file that is not audio: 400, not_audio", async () => {
    const res = await stack.gw.api("/v1/audio/voices", { method: "POST", body: customVoiceForm({ name: "X", consent: "yes", audio: new TextEncoder().encode("not audio at all, just text".repeat(20)) }) });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("not_audio");
  });

  it("GET /v1/audio/voices: built-in speakers, saved voices, and the aliases that resolve", async () => {
    const res = await stack.gw.api("/v1/audio/voices");
    expect(res.status).toBe(200);
    const voices = res.json.voices as { id: string; name: string }[];
    expect(voices).toContainEqual({ id: "builtin:中文女", name: "中文女" });
    expect(voices).toContainEqual({ id: created.id, name: "Bo" });
    expect(voices).toContainEqual({ id: "alloy", name: "alloy (中文女)" });
    expect(voices).toContainEqual({ id: "nova", name: "nova (Bo)" });
    // An alias to a voice that does not exist is not listed.
    expect(voices.map((v) => v.id)).not.toContain("onyx");
  });

  it("every listed id speaks (Open WebUI sends back the id it listed)", async () => {
    const voices = (await stack.gw.api("/v1/audio/voices")).json.voices as { id: string }[];
    for (const { id } of voices.slice(0, 3).concat(voices.slice(-2))) {
      const res = await client.audio.speech.create({ model: "tts-1", voice: id, input: "你好。" });
      expect(res.status, id).toBe(200);
      await res.arrayBuffer();
    }
  });

  type Asked = () => string | { id: string };
  it.each<[string, Asked, { mode: string; speaker?: string }]>([
    ["a built-in speaker's bare name", () => "中文男", { mode: "预训练音色", speaker: "中文男" }],
    ["an alias, case-insensitively", () => "Alloy", { mode: "预训练音色", speaker: "中文女" }],
    ["a saved voice's name", () => "Bo", { mode: "3s极速复刻" }],
    ["an alias to a saved voice", () => "nova", { mode: "3s极速复刻" }],
    ["the { id } object", () => ({ id: created.id }), { mode: "3s极速复刻" }],
  ])("voice as %s reaches that voice in the UI", async (_what, voice, expected) => {
    const res = await client.audio.speech.create({ model: "tts-1", voice: voice(), input: "你好。" });
    await res.arrayBuffer();
    const call = lastCall(stack.standin.record);
    expect(call).toMatchObject(expected);
    if (expected.mode === "3s极速复刻") expect(call.prompt).not.toBeNull();
  });

  it("instructions with a built-in speaker on CosyVoice 1 make an instruct job", async () => {
    const res = await client.audio.speech.create({ model: "gpt-4o-mini-tts", voice: "alloy", input: "你好。", instructions: "A happy girl speaking quickly." });
    await res.arrayBuffer();
    expect(lastCall(stack.standin.record)).toMatchObject({ mode: "自然语言控制", speaker: "中文女" });
  });

  it("every encoder was primed at the rate the UI streams at, 22050 Hz (CosyVoice 1): none had to restart", () => {
    expect(stack.gw.logLines.filter((l) => l.includes("ffmpeg primed at another rate"))).toEqual([]);
  });
});
