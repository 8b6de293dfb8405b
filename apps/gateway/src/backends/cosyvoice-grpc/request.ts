/**
 * A synthesis request as the official gRPC server takes it (`runtime/python/grpc/server.py`,
 * `cosyvoice.proto`): one `Request` whose oneof names the inference method. There is no
 * instruct2: instruct takes a built-in speaker (CosyVoice 1 only). Prompt audio goes as raw
 * 16 kHz int16 bytes (converted by the driver). CosyVoice3's prefix is added as for FastAPI.
 */
import { CV3_PREFIX, END_OF_PROMPT, type Mode, type ModelFamily, type SynthesisRequest } from "cosyvoice3-sdk";
import { COSYVOICE1_SPEAKERS } from "../cosyvoice-fastapi/request.ts";
import { BoxCannotError } from "../errors.ts";

/** What the gRPC server can do with each family: no instruct2, so no instruct on CosyVoice2/3. */
export function grpcModes(model: ModelFamily): { modes: Mode[]; speakers: string[] } {
  return model === "cosyvoice1" ? { modes: ["pretrained", "clone", "crossLingual", "instruct"], speakers: COSYVOICE1_SPEAKERS } : { modes: ["clone", "crossLingual"], speakers: [] };
}

/** The `Request` message, with the prompt audio still to convert (`needsPrompt`). */
export interface GrpcCall {
  payload: "sft_request" | "zero_shot_request" | "cross_lingual_request" | "instruct_request";
  fields: Record<string, string>;
  needsPrompt: boolean;
}

const KIND = "gRPC";
const cv3Prefixed = (text: string): string => (text.includes(END_OF_PROMPT) ? text : CV3_PREFIX + text);

/**
 * @throws BoxCannotError before anything is sent, for what the server or model cannot do
 * @example grpcCall({ mode: "crossLingual", text: "Hi.", promptAudio }, "cosyvoice3") // { payload: "cross_lingual_request", fields: { tts_text: "You are a helpful assistant.<|endofprompt|>Hi." }, needsPrompt: true }
 */
export function grpcCall(request: SynthesisRequest, model: ModelFamily): GrpcCall {
  if (!grpcModes(model).modes.includes(request.mode)) {
    const why = request.mode === "instruct" ? "the official gRPC server has no instruct2, and its instruct needs CosyVoice 1" : `the official gRPC server with ${model} has no such method`;
    throw new BoxCannotError(KIND, `${request.mode} mode`, why);
  }
  if (request.speed !== undefined && request.speed !== 1) throw new BoxCannotError(KIND, "speed", "the official gRPC server has no speed parameter; send speed 1 (or none)");
  const cv3 = model === "cosyvoice3";
  switch (request.mode) {
    case "pretrained":
      return { payload: "sft_request", fields: { spk_id: request.voice, tts_text: request.text }, needsPrompt: false };
    case "clone":
      return { payload: "zero_shot_request", fields: { tts_text: request.text, prompt_text: cv3 ? cv3Prefixed(request.promptText) : request.promptText }, needsPrompt: true };
    case "crossLingual":
      return { payload: "cross_lingual_request", fields: { tts_text: cv3 ? cv3Prefixed(request.text) : request.text }, needsPrompt: true };
    case "instruct":
      if (request.voice === undefined || typeof request.instruct !== "string") {
        throw new BoxCannotError(KIND, "instruct mode", "CosyVoice 1's instruct takes a built-in speaker and free text");
      }
      return { payload: "instruct_request", fields: { tts_text: request.text, spk_id: String(request.voice), instruct_text: request.instruct }, needsPrompt: false };
  }
}
