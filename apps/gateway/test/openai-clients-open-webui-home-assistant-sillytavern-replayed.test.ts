// The requests real OpenAI-speech clients send, replayed byte for byte on both web UIs:
// - Open WebUI: {input, voice, model}, no response_format (so mp3), an OpenAI voice name;
// - Home Assistant (openai_tts): instructions=str(None), i.e. the literal "None", mp3 whole and
//   opus streamed (with_streaming_response); before, "None" was a 400 on the official UI and an
//   instruct job told "None" on cv3-en;
// - SillyTavern: response_format mp3 and a speed from its 0.25-4 slider.
// OpenAI's built-in voice names reach DEFAULT_VOICE; without it the 400 lists the usable voices.
import { readRecord, synthWav } from "@cosyvoice3/testkit";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probe } from "./helpers/ffprobe.ts";
import { SDK_READY, startFullStack, type FullStack } from "./helpers/full-stack.ts";
import { jsonPost, voiceForm } from "./helpers/harness.ts";

/** The generate_audio inputs the UI got for the last job. */
const lastCall = (record: string) => {
  const call = readRecord(record).filter((e) => e.event === "call" && e["fn"] === "generate_audio").at(-1)!;
  const inputs = call["inputs"] as Record<string, { value: unknown }>;
  return { mode: inputs["mode_checkbox_group"]?.value, instruct: inputs["instruct_text"]?.value, speed: inputs["speed"]?.value, text: inputs["tts_text"]?.value };
};

const UIS = [
  { variant: "official", clone: "3s极速复刻" },
  { variant: "cv3-en", clone: "3s Zero-Shot" },
] as const;

describe.skipIf(!SDK_READY).each(UIS)("real clients' requests on the $variant UI", ({ variant, clone }) => {
  let stack: FullStack;
  beforeAll(async () => {
    // DEFAULT_VOICE names a saved voice by its name: alloy, nova... all become it.
    stack = await startFullStack({ variant, model: "cosyvoice3" }, { defaultVoice: "Cara" });
    const created = await stack.gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav({ sampleRate: 24_000, seconds: 3, f0: 220 }), name: "Cara", promptText: "I like long walks." }) });
    expect(created.status).toBe(201);
  });
  afterAll(() => stack?.close());

  it("Open WebUI: {input, voice: alloy, model} is mp3 in Cara's cloned voice", async () => {
    const res = await fetch(`${stack.gw.url}/v1/audio/speech`, jsonPost({ input: "Hello from Open WebUI.", voice: "alloy", model: "tts-1" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    expect((await probe(new Uint8Array(await res.arrayBuffer()), "mp3")).decodedMs).toBeGreaterThan(300);
    expect(lastCall(stack.standin.record)).toMatchObject({ mode: clone, instruct: "", text: "Hello from Open WebUI." });
  });

  it.each(["None", "null", "", "   "])("Home Assistant: instructions %j is no instruction (a clone job, not a 400 or an instruct job)", async (instructions) => {
    const body = { model: "tts-1", input: "The garage door is open.", voice: "nova", response_format: "mp3", speed: 1.0, instructions };
    const res = await fetch(`${stack.gw.url}/v1/audio/speech`, jsonPost(body));
    expect(res.status, await res.clone().text().then((t) => t.slice(0, 300))).toBe(200);
    await res.arrayBuffer();
    expect(lastCall(stack.standin.record)).toMatchObject({ mode: clone, instruct: "" });
  });

  it("Home Assistant streamed: opus read chunk by chunk through the openai client's raw response", async () => {
    const client = new OpenAI({ apiKey: "unused", baseURL: `${stack.gw.url}/v1`, maxRetries: 0 });
    const res = await client.audio.speech.create({ model: "tts-1", input: "Streaming to the kitchen speaker. Two sentences.", voice: "nova", response_format: "opus", speed: 1, instructions: "None" });
    const parts: Uint8Array[] = [];
    for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) parts.push(part);
    const bytes = Buffer.concat(parts);
    expect(bytes.subarray(0, 4).toString("latin1")).toBe("OggS");
    expect((await probe(bytes, "ogg")).codec).toBe("opus");
    expect(lastCall(stack.standin.record)).toMatchObject({ mode: clone, instruct: "" });
  });

  it("SillyTavern: mp3 at speed 1.5 reaches the UI's speed", async () => {
    const res = await fetch(`${stack.gw.url}/v1/audio/speech`, jsonPost({ model: "tts-1", input: "A tavern tale.", voice: "Cara", response_format: "mp3", speed: 1.5 }));
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(lastCall(stack.standin.record)).toMatchObject({ mode: clone, speed: 1.5 });
  });

  it.each([0.25, 4])("SillyTavern: speed %d (OpenAI's range, outside CosyVoice's) is a 400 naming speed and the range", async (speed) => {
    const res = await stack.gw.api("/v1/audio/speech", jsonPost({ model: "tts-1", input: "A tavern tale.", voice: "Cara", response_format: "mp3", speed }));
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ param: "speed", code: "speed_out_of_range", type: "invalid_request_error" });
    expect(res.json.error.message).toMatch(/0\.5 and 2\.0/);
  });

  it("a real instruction still makes an instruct job where the UI has one, or a 400 naming instructions", async () => {
    const res = await stack.gw.api("/v1/audio/speech", jsonPost({ model: "gpt-4o-mini-tts", input: "Calm down.", voice: "Cara", instructions: "Speak softly." }));
    if (variant === "cv3-en") {
      expect(res.status).toBe(200);
      const call = lastCall(stack.standin.record);
      expect(call.mode).toBe("Instruct");
      expect(call.instruct).toContain("Speak softly.");
    } else {
      expect(res.status).toBe(400);
      expect(res.json.error.param).toBe("instructions");
    }
  });
});

describe.skipIf(!SDK_READY)("OpenAI voice names without DEFAULT_VOICE", () => {
  let stack: FullStack;
  beforeAll(async () => {
    stack = await startFullStack({ variant: "cv3-en", model: "cosyvoice3" });
    await stack.gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav({ sampleRate: 24_000, seconds: 3 }), name: "Cara", promptText: "I like long walks." }) });
  });
  afterAll(() => stack?.close());

  it("alloy is a 400 naming voice, listing the usable voices and how to make alloy work", async () => {
    const res = await stack.gw.api("/v1/audio/speech", jsonPost({ model: "tts-1", input: "Hi.", voice: "alloy" }));
    expect(res.status).toBe(400);
    expect(res.json.error.param).toBe("voice");
    expect(res.json.error.message).toMatch(/DEFAULT_VOICE/);
    expect(res.json.error.message).toMatch(/\(Cara\)/);
  });
});
