/**
 * Every mode each variant supports returns a valid WAV at the model's sample rate, and the
 * stand-in's record proves what was sent: CosyVoice3 prefixes added only where the UI does not
 * add them, an integer seed, a JSON boolean stream, null for the unused microphone input.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBuffer } from "music-metadata";
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { CosyVoice, CV3_PREFIX, buildInstruction, type SynthesisRequest, type SynthesisResult } from "../src/index.ts";
import { calls, expectSegmentsOf, inputsOf, makeWav } from "./helpers.ts";

const prompt = makeWav({ seconds: 3 });
const TEXT = "Hello there. This is the second sentence.";

async function expectWav(res: SynthesisResult, sampleRate: number) {
  expect(res.mimeType).toBe("audio/wav");
  expect(Buffer.from(res.audio.subarray(0, 4)).toString("ascii")).toBe("RIFF");
  const meta = await parseBuffer(res.audio, { mimeType: "audio/wav" }, { duration: true });
  expect(meta.format.container).toBe("WAVE");
  expect(meta.format.sampleRate).toBe(sampleRate);
  expect(res.sampleRate).toBe(sampleRate);
  expect(res.durationMs).toBeGreaterThan(500);
  expect(res.chunks).toBe(2);
}

function lastCallInputs(standin: StandinHandle) {
  const c = calls(standin.record).at(-1);
  expect(c).toBeDefined();
  return { call: c!, inputs: inputsOf(c!) };
}

/** The wire types every call must have, whatever the mode. */
function expectWireTypes(inputs: ReturnType<typeof inputsOf>) {
  expect(inputs["seed"]).toEqual({ value: 7, type: "int" });
  expect(inputs["stream"]?.type).toBe("bool");
  expect(inputs["prompt_wav_record"]).toEqual({ value: null, type: "NoneType" });
  expect(inputs["speed"]?.value).toBe(1);
}

describe("official UI with a CosyVoice3 model", () => {
  let standin: StandinHandle;
  let cv: CosyVoice;
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice3" });
    cv = await CosyVoice.connect(standin.url, { model: "cosyvoice3" });
  });
  afterAll(async () => {
    await cv?.close();
    await standin?.stop();
  });

  it("is recognised with its modes and no speakers", async () => {
    // 5.4.0 under `npm test`; the newest 5.x or 6.x under `pnpm test:compat`.
    expect(cv.backend).toMatchObject({ variant: "official", gradioVersion: standin.gradioVersion, model: "cosyvoice3", speakers: [] });
    expect(cv.backend.gradioVersion).toMatch(/^[56]\./);
    expect(cv.backend.modes).toEqual(["clone", "crossLingual"]);
    expect(await cv.listVoices()).toEqual([]);
  });

  it("clone: 24 kHz WAV; the prefix is added to prompt_text, not to tts_text", async () => {
    const res = await cv.synthesize({ mode: "clone", text: TEXT, promptAudio: prompt, promptText: "The prompt says this.", seed: 7 });
    await expectWav(res, 24_000);
    expect(cv.backend.sampleRate).toBe(24_000);
    const { inputs } = lastCallInputs(standin);
    expectWireTypes(inputs);
    expect(inputs["mode_checkbox_group"]?.value).toBe("3s极速复刻");
    expect(inputs["prompt_text"]?.value).toBe(`${CV3_PREFIX}The prompt says this.`);
    expect(inputs["tts_text"]?.value).toBe(TEXT);
    expect(inputs["prompt_wav_upload"]?.type).toBe("str");
  });

  it("crossLingual: 24 kHz WAV; the prefix is added to tts_text", async () => {
    const res = await cv.synthesize({ mode: "crossLingual", text: TEXT, promptAudio: prompt, seed: 7 });
    await expectWav(res, 24_000);
    const { inputs } = lastCallInputs(standin);
    expectWireTypes(inputs);
    expect(inputs["mode_checkbox_group"]?.value).toBe("跨语种复刻");
    expect(inputs["tts_text"]?.value).toBe(`${CV3_PREFIX}${TEXT}`);
    expect(inputs["prompt_text"]?.value).toBe("");
  });

  it("a text that already carries <|endofprompt|> is not prefixed twice", async () => {
    await cv.synthesize({ mode: "crossLingual", text: `${CV3_PREFIX}${TEXT}`, promptAudio: prompt, seed: 7 });
    const { inputs } = lastCallInputs(standin);
    expect(inputs["tts_text"]?.value).toBe(`${CV3_PREFIX}${TEXT}`);
  });
});

describe("official UI with a CosyVoice 1 model", () => {
  let standin: StandinHandle;
  let cv: CosyVoice;
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice1" });
    cv = await CosyVoice.connect(standin.url, { model: "cosyvoice1" });
  });
  afterAll(async () => {
    await cv?.close();
    await standin?.stop();
  });

  it("lists the built-in speakers and all four modes", async () => {
    expect(await cv.listVoices()).toContain("英文女");
    expect(cv.backend.modes).toEqual(["pretrained", "clone", "crossLingual", "instruct"]);
  });

  const cases: [string, SynthesisRequest, Record<string, unknown>][] = [
    ["pretrained", { mode: "pretrained", text: TEXT, voice: "英文男", seed: 7 }, { mode_checkbox_group: "预训练音色", sft_dropdown: "英文男" }],
    [
      "clone",
      { mode: "clone", text: TEXT, promptAudio: prompt, promptText: "The prompt says this.", seed: 7 },
      { mode_checkbox_group: "3s极速复刻", prompt_text: "The prompt says this.", tts_text: TEXT },
    ],
    [
      "crossLingual",
      { mode: "crossLingual", text: TEXT, promptAudio: prompt, seed: 7 },
      { mode_checkbox_group: "跨语种复刻", tts_text: TEXT },
    ],
    [
      "instruct",
      { mode: "instruct", text: TEXT, voice: "中文女", instruct: "A calm and gentle narrator.", seed: 7 },
      { mode_checkbox_group: "自然语言控制", sft_dropdown: "中文女", instruct_text: "A calm and gentle narrator." },
    ],
  ];
  for (const [name, request, expected] of cases) {
    it(`${name}: 22.05 kHz WAV, no CosyVoice3 prefix anywhere`, async () => {
      const res = await cv.synthesize(request);
      await expectWav(res, 22_050);
      const { inputs } = lastCallInputs(standin);
      expectWireTypes(inputs);
      for (const [k, v] of Object.entries(expected)) expect(inputs[k]?.value, k).toBe(v);
      expect(JSON.stringify(inputs)).not.toContain("<|endofprompt|>");
    });
  }
});

describe("cv3-en UI with a CosyVoice3 model", () => {
  let standin: StandinHandle;
  let cv: CosyVoice;
  beforeAll(async () => {
    standin = await startStandin({ variant: "cv3-en", model: "cosyvoice3" });
    cv = await CosyVoice.connect(standin.url);
  });
  afterAll(async () => {
    await cv?.close();
    await standin?.stop();
  });

  it("is recognised with clone, crossLingual and instruct", () => {
    expect(cv.backend).toMatchObject({ variant: "cv3-en", model: "cosyvoice3", speakers: [] });
    expect(cv.backend.modes).toEqual(["clone", "crossLingual", "instruct"]);
  });

  it("clone: the SDK leaves the prefix to the UI", async () => {
    const res = await cv.synthesize({ mode: "clone", text: TEXT, promptAudio: prompt, promptText: "The prompt says this.", seed: 7 });
    await expectWav(res, 24_000);
    const { inputs } = lastCallInputs(standin);
    expectWireTypes(inputs);
    expect(inputs["mode_checkbox_group"]?.value).toBe("3s Zero-Shot");
    expect(inputs["prompt_text"]?.value).toBe("The prompt says this.");
    expect(inputs).not.toHaveProperty("sft_dropdown");
  });

  it("crossLingual: the SDK leaves the prefix to the UI", async () => {
    const res = await cv.synthesize({ mode: "crossLingual", text: TEXT, promptAudio: prompt, seed: 7 });
    await expectWav(res, 24_000);
    const { inputs } = lastCallInputs(standin);
    expectWireTypes(inputs);
    expect(inputs["mode_checkbox_group"]?.value).toBe("Cross-Lingual");
    expect(inputs["tts_text"]?.value).toBe(TEXT);
  });

  it("instruct: typed controls become the CosyVoice3 instruction sentence", async () => {
    const res = await cv.synthesize({
      mode: "instruct",
      text: TEXT,
      promptAudio: prompt,
      instruct: { dialect: "cantonese", emotion: "happy" },
      seed: 7,
    });
    await expectWav(res, 24_000);
    const { inputs } = lastCallInputs(standin);
    expectWireTypes(inputs);
    expect(inputs["mode_checkbox_group"]?.value).toBe("Instruct");
    expect(inputs["instruct_text"]?.value).toBe(buildInstruction({ dialect: "cantonese", emotion: "happy" }));
    expect(inputs["instruct_text"]?.value).toBe("You are a helpful assistant. 请用广东话表达。请非常开心地说一句话。<|endofprompt|>");
  });

  it("stream() sends stream=true and synthesize() stream=false, both as JSON booleans", async () => {
    const chunks = [];
    for await (const c of cv.stream({ mode: "clone", text: TEXT, promptAudio: prompt, promptText: "Prompt.", seed: 7 })) chunks.push(c);
    // Two model chunks; gradio 6.x cuts the HLS segments its own way (see AudioChunk).
    expectSegmentsOf(standin, chunks, 2);
    expect(lastCallInputs(standin).inputs["stream"]).toEqual({ value: true, type: "bool" });
    await cv.synthesize({ mode: "clone", text: TEXT, promptAudio: prompt, promptText: "Prompt.", seed: 7 });
    expect(lastCallInputs(standin).inputs["stream"]).toEqual({ value: false, type: "bool" });
  });
});
