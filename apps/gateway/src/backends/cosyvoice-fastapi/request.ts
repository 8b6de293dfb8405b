/**
 * A synthesis request as the official FastAPI server takes it (`runtime/python/fastapi/server.py`):
 * one endpoint per inference method, form fields, and the prompt audio as a `prompt_wav` upload.
 * The server passes the fields to the model as they are, so the CosyVoice3 conventions it leaves
 * to its caller are added here: `You are a helpful assistant.<|endofprompt|>` before the prompt
 * transcript (zero-shot) or the text (cross-lingual), and instruct2's
 * `You are a helpful assistant. <instruction><|endofprompt|>`.
 */
import { buildInstruction, CV3_PREFIX, END_OF_PROMPT, type Instruct, type Mode, type ModelFamily, type SynthesisRequest } from "cosyvoice3-sdk";
import { BoxCannotError } from "../errors.ts";
import { promptBytes } from "../http-pcm.ts";

/** The built-in speakers of iic/CosyVoice-300M-SFT and -Instruct (their spk2info.pt). */
export const COSYVOICE1_SPEAKERS = ["中文女", "中文男", "日语男", "粤语女", "英文女", "英文男", "韩语女"];

/** What the server can do with each model family: CosyVoice2/3 have no speakers and instruct2 only. */
export function fastapiModes(model: ModelFamily): { modes: Mode[]; instructNeeds: "voice" | "promptAudio"; speakers: string[] } {
  return model === "cosyvoice1"
    ? { modes: ["pretrained", "clone", "crossLingual", "instruct"], instructNeeds: "voice", speakers: COSYVOICE1_SPEAKERS }
    : { modes: ["clone", "crossLingual", "instruct"], instructNeeds: "promptAudio", speakers: [] };
}

/** One call on the server. */
export interface FastapiCall {
  /** e.g. `/inference_zero_shot`. */
  path: string;
  fields: Record<string, string>;
  promptWav?: { data: Uint8Array; name: string; mimeType: string | undefined };
}

const KIND = "FastAPI";

/** A prompt transcript (or cross-lingual text) as CosyVoice3 needs it: with the system prefix once. */
const cv3Prefixed = (text: string): string => (text.includes(END_OF_PROMPT) ? text : CV3_PREFIX + text);

/** The instruction as each family's instruct method takes it. */
function instructText(model: ModelFamily, instruct: Instruct): string {
  if (model === "cosyvoice3") return buildInstruction(instruct);
  if (typeof instruct !== "string") throw new BoxCannotError(KIND, "instruct", `typed instruct controls need CosyVoice3 (the server runs ${model}); send free text`);
  // CosyVoice2's instruct2 ends the instruction with the marker; CosyVoice 1's frontend adds its own.
  return model === "cosyvoice2" && !instruct.includes(END_OF_PROMPT) ? instruct + END_OF_PROMPT : instruct;
}

/**
 * Maps a request onto the server's endpoint and fields, or refuses (before anything is sent)
 * what the model cannot do.
 * @throws BoxCannotError
 * @example fastapiCall({ mode: "clone", text: "Hi.", promptText: "Hello.", promptAudio: { data } }, "cosyvoice3").fields.prompt_text // "You are a helpful assistant.<|endofprompt|>Hello."
 */
export function fastapiCall(request: SynthesisRequest, model: ModelFamily): FastapiCall {
  const can = fastapiModes(model);
  if (!can.modes.includes(request.mode)) {
    throw new BoxCannotError(KIND, `${request.mode} mode`, `the official server with ${model} has no ${request.mode === "pretrained" ? "built-in speakers (inference_sft needs CosyVoice 1)" : "such method"}`);
  }
  if (request.speed !== undefined && request.speed !== 1) {
    throw new BoxCannotError(KIND, "speed", "the official FastAPI server has no speed parameter; send speed 1 (or none), or use a backend that takes it");
  }
  const prompt = () => {
    const audio = "promptAudio" in request ? promptBytes(request.promptAudio) : undefined;
    if (!audio) throw new BoxCannotError(KIND, `${request.mode} mode`, "the prompt audio must be bytes");
    return audio;
  };
  const cv3 = model === "cosyvoice3";
  switch (request.mode) {
    case "pretrained":
      return { path: "/inference_sft", fields: { tts_text: request.text, spk_id: request.voice } };
    case "clone":
      return {
        path: "/inference_zero_shot",
        fields: { tts_text: request.text, prompt_text: cv3 ? cv3Prefixed(request.promptText) : request.promptText },
        promptWav: prompt(),
      };
    case "crossLingual":
      return { path: "/inference_cross_lingual", fields: { tts_text: cv3 ? cv3Prefixed(request.text) : request.text }, promptWav: prompt() };
    case "instruct":
      if (can.instructNeeds === "voice") {
        if (request.voice === undefined) throw new BoxCannotError(KIND, "instruct mode", "CosyVoice 1's inference_instruct takes a built-in speaker, not prompt audio");
        return { path: "/inference_instruct", fields: { tts_text: request.text, spk_id: String(request.voice), instruct_text: instructText(model, request.instruct) } };
      }
      if (request.voice !== undefined && !("promptAudio" in request && request.promptAudio !== undefined)) {
        throw new BoxCannotError(KIND, "instruct mode", `${model}'s inference_instruct2 takes a saved voice's prompt audio, not a built-in speaker`);
      }
      return { path: "/inference_instruct2", fields: { tts_text: request.text, instruct_text: instructText(model, request.instruct) }, promptWav: prompt() };
  }
}
