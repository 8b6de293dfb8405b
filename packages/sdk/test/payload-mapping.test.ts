/**
 * Each typed request becomes the variant's positional parameters: mode labels, CosyVoice3
 * prefixes only where the UI does not add them, integer seed, boolean stream, null microphone
 * input, the dropdown's default where a mode does not use it. Refusals happen here, before I/O.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CV3_PREFIX, UnsupportedModeError, ValidationError, buildInstruction, type SynthesisRequest } from "../src/index.ts";
import { buildPayload, checkRequest, promptAudioOf, type GradioFileRef } from "../src/internal/payload.ts";
import { recognise, type GradioConfig } from "../src/internal/recognize.ts";

const rec = (name: string) =>
  recognise(JSON.parse(readFileSync(new URL(`./fixtures/config-${name}.json`, import.meta.url), "utf8")) as GradioConfig, undefined);
const official3 = rec("official-cosyvoice3");
const official1 = rec("official-cosyvoice1");
const cv3en = rec("cv3-en-cosyvoice3");
const file: GradioFileRef = { path: "/tmp/gradio/x/voice.wav", orig_name: "voice.wav", meta: { _type: "gradio.FileData" } };
const audio = new Uint8Array([1]);

function map(r: typeof official3, request: SynthesisRequest, stream = false) {
  return buildPayload(r, checkRequest(r, request), file, stream);
}

describe("official UI, CosyVoice3", () => {
  it("clone: prefix on prompt_text, default speaker, null microphone, seed and stream as given", () => {
    expect(map(official3, { mode: "clone", text: "Hi.", promptAudio: audio, promptText: "Prompt.", seed: 5 })).toEqual([
      "Hi.", "3s极速复刻", "", `${CV3_PREFIX}Prompt.`, file, null, "", 5, false, 1,
    ]);
  });
  it("crossLingual: prefix on tts_text; stream=true when streaming at speed 1", () => {
    expect(map(official3, { mode: "crossLingual", text: "<|en|>Hi.", promptAudio: audio }, true)).toEqual([
      `${CV3_PREFIX}<|en|>Hi.`, "跨语种复刻", "", "", file, null, "", 0, true, 1,
    ]);
  });
  it("a speed other than 1 turns model streaming off (the model asserts otherwise)", () => {
    const p = map(official3, { mode: "crossLingual", text: "Hi.", promptAudio: audio, speed: 1.5 }, true);
    expect(p.slice(8)).toEqual([false, 1.5]);
  });
  it("instruct and pretrained are refused with the reason, before any I/O", () => {
    expect(() => checkRequest(official3, { mode: "instruct", text: "Hi.", instruct: { emotion: "sad" } })).toThrow(UnsupportedModeError);
    expect(() => checkRequest(official3, { mode: "instruct", text: "Hi.", instruct: "x" })).toThrow(/only CosyVoice 1/);
    expect(() => checkRequest(official3, { mode: "pretrained", text: "Hi.", voice: "a" })).toThrow(UnsupportedModeError);
  });
});

describe("official UI, CosyVoice 1", () => {
  it("pretrained: the voice goes to the speaker dropdown, no prompt sent", () => {
    const req = checkRequest(official1, { mode: "pretrained", text: "Hi.", voice: "英文男" });
    expect(promptAudioOf(official1, req)).toBeUndefined();
    expect(buildPayload(official1, req, null, false)).toEqual(["Hi.", "预训练音色", "英文男", "", null, null, "", 0, false, 1]);
  });
  it("clone keeps the dropdown's default speaker (Gradio rejects values outside the choices) and adds no prefix", () => {
    expect(map(official1, { mode: "clone", text: "Hi.", promptAudio: audio, promptText: "P." })).toEqual([
      "Hi.", "3s极速复刻", "中文女", "P.", file, null, "", 0, false, 1,
    ]);
  });
  it("instruct: free text as is, with the voice; prompt audio is not sent", () => {
    const req = checkRequest(official1, { mode: "instruct", text: "Hi.", instruct: "A calm narrator.", voice: "中文男", promptAudio: audio });
    expect(promptAudioOf(official1, req)).toBeUndefined();
    expect(buildPayload(official1, req, null, false)).toEqual([
      "Hi.", "自然语言控制", "中文男", "", null, null, "A calm narrator.", 0, false, 1,
    ]);
  });
  it("instruct without a voice, with an unknown voice, or with typed controls: ValidationError per field", () => {
    const issues = (r: SynthesisRequest) => {
      try {
        checkRequest(official1, r);
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError);
        return (e as ValidationError).issues.map((i) => `${i.path.join(".")}:${i.code}`);
      }
      return [];
    };
    expect(issues({ mode: "instruct", text: "Hi.", instruct: "calm" })).toEqual(["voice:required"]);
    expect(issues({ mode: "pretrained", text: "Hi.", voice: "nobody" })).toEqual(["voice:unknown_voice"]);
    expect(issues({ mode: "instruct", text: "Hi.", instruct: { pace: "fast" }, voice: "中文男" })).toEqual(["instruct:unsupported_controls"]);
  });
});

describe("cv3-en UI", () => {
  it("clone and crossLingual: no prefix (the UI adds it), no speaker parameter", () => {
    expect(map(cv3en, { mode: "clone", text: "Hi.", promptAudio: audio, promptText: "P." })).toEqual([
      "Hi.", "3s Zero-Shot", "P.", file, null, "", 0, false, 1,
    ]);
    expect(map(cv3en, { mode: "crossLingual", text: "Hi.", promptAudio: audio })).toEqual([
      "Hi.", "Cross-Lingual", "", file, null, "", 0, false, 1,
    ]);
  });
  it("instruct: the instruction sentence and the prompt audio", () => {
    const p = map(cv3en, { mode: "instruct", text: "Hi.", promptAudio: audio, instruct: { volume: "soft" } }, true);
    expect(p).toEqual(["Hi.", "Instruct", "", file, null, buildInstruction({ volume: "soft" }), 0, true, 1]);
  });
  it("instruct without prompt audio is a ValidationError on promptAudio", () => {
    expect(() => checkRequest(cv3en, { mode: "instruct", text: "Hi.", instruct: "x" })).toThrow(/promptAudio/);
  });
});

describe("request shape (zod) problems become ValidationError issues with their field", () => {
  const cases: [string, unknown, string][] = [
    ["float seed", { mode: "clone", text: "Hi.", promptAudio: audio, promptText: "P.", seed: 1.5 }, "seed"],
    ["speed out of range", { mode: "clone", text: "Hi.", promptAudio: audio, promptText: "P.", speed: 3 }, "speed"],
    ["empty text", { mode: "crossLingual", text: "  ", promptAudio: audio }, "text"],
    ["missing prompt text", { mode: "clone", text: "Hi.", promptAudio: audio }, "promptText"],
    ["unknown mode", { mode: "sing", text: "Hi." }, "mode"],
    ["prompt audio of the wrong type", { mode: "crossLingual", text: "Hi.", promptAudio: 42 }, "promptAudio"],
  ];
  for (const [name, request, field] of cases) {
    it(name, () => {
      try {
        checkRequest(official3, request as SynthesisRequest);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError);
        expect((e as ValidationError).issues.map((i) => i.path[0])).toContain(field);
      }
    });
  }
});
