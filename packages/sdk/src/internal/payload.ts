/**
 * Request checking and payload shaping: a typed request becomes the connected variant's positional
 * `/generate_audio` parameters. Pure functions; nothing here talks to the network.
 */
import { UnsupportedModeError, ValidationError, type ValidationIssue } from "../errors.ts";
import {
  CV3_PREFIX,
  END_OF_PROMPT,
  SynthesisRequestSchema,
  buildInstruction,
  type AudioInput,
  type SynthesisRequest,
} from "../schemas.ts";
import type { Recognised } from "./recognize.ts";
import { modeNeedsSpeakers, type ParamRole } from "./variants.ts";

/** A parsed request (defaults not yet applied). */
export type ParsedRequest = ReturnType<typeof SynthesisRequestSchema.parse>;

/** Gradio's file reference for an uploaded prompt. */
export interface GradioFileRef {
  path: string;
  orig_name: string;
  mime_type?: string;
  size?: number;
  meta: { _type: "gradio.FileData" };
}

/** zod issues -> the SDK's issues, with the field path. */
export function toIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string; code?: string; params?: Record<string, unknown> | undefined }[],
): ValidationIssue[] {
  return issues.map((i) => ({
    path: i.path.map((p) => (typeof p === "number" ? p : String(p))),
    message: i.message,
    // A custom check names its own code (e.g. promptAudio's `bare_string`).
    code: typeof i.params?.["code"] === "string" ? i.params["code"] : (i.code ?? "invalid"),
  }));
}

/**
 * Validates the request's shape and that the connected variant+model can run it. Throws
 * {@link ValidationError} or {@link UnsupportedModeError}; returns the parsed request.
 */
export function checkRequest(rec: Recognised, request: SynthesisRequest): ParsedRequest {
  const parsed = SynthesisRequestSchema.safeParse(request);
  if (!parsed.success) throw new ValidationError(toIssues(parsed.error.issues), { cause: parsed.error });
  const req = parsed.data;
  const { spec, support } = rec;
  if (!support.modes.includes(req.mode)) {
    throw new UnsupportedModeError(
      req.mode,
      spec.name,
      support.unsupported[req.mode] ?? `the ${spec.name} UI has no ${req.mode} mode for ${rec.model} models`,
    );
  }
  if (modeNeedsSpeakers(spec, support, req.mode) && rec.speakers.length === 0) {
    throw new UnsupportedModeError(req.mode, spec.name, "the UI lists no built-in speakers");
  }
  const issues: ValidationIssue[] = [];
  const voice = "voice" in req ? req.voice : undefined;
  const needsVoice = req.mode === "pretrained" || (req.mode === "instruct" && support.instructNeeds === "voice");
  if (needsVoice) {
    if (!voice) issues.push({ path: ["voice"], message: "voice is required for this mode on this UI", code: "required" });
    else if (!rec.speakers.includes(voice)) {
      issues.push({
        path: ["voice"],
        message: `unknown voice "${voice}"; the UI offers ${rec.speakers.map((s) => `"${s}"`).join(", ")}`,
        code: "unknown_voice",
      });
    }
  }
  if (req.mode === "instruct") {
    if (support.instructNeeds === "promptAudio" && req.promptAudio === undefined) {
      issues.push({ path: ["promptAudio"], message: "instruct on this UI needs prompt audio", code: "required" });
    }
    if (support.instructStyle === "plain" && typeof req.instruct !== "string") {
      issues.push({
        path: ["instruct"],
        message: `typed instruct controls are CosyVoice3 instructions; give free text for ${rec.model} models`,
        code: "unsupported_controls",
      });
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return req;
}

function withCv3Prefix(text: string): string {
  return text.includes(END_OF_PROMPT) ? text : `${CV3_PREFIX}${text}`;
}

/** The prompt audio this request sends on this variant (undefined when its mode sends none). */
export function promptAudioOf(rec: Recognised, req: ParsedRequest): AudioInput | undefined {
  if (req.mode === "clone" || req.mode === "crossLingual") return req.promptAudio;
  if (req.mode === "instruct" && rec.support.instructNeeds === "promptAudio") return req.promptAudio;
  return undefined;
}

/**
 * The positional parameters for the variant's endpoint. `prompt` is the uploaded prompt (or null);
 * `stream` picks the stream radio's value.
 */
export function buildPayload(rec: Recognised, req: ParsedRequest, prompt: GradioFileRef | null, stream: boolean): unknown[] {
  const { spec, support } = rec;
  const prefix = support.needsCv3Prefix && !spec.addsCv3Prefix;
  let text = req.text;
  let promptText = "";
  let instructText = "";
  let speaker: string | null = rec.defaultSpeaker ?? rec.speakers[0] ?? "";
  let audio: GradioFileRef | null = null;
  switch (req.mode) {
    case "pretrained":
      speaker = req.voice;
      break;
    case "clone":
      promptText = prefix ? withCv3Prefix(req.promptText) : req.promptText;
      audio = prompt;
      break;
    case "crossLingual":
      if (prefix) text = withCv3Prefix(text);
      audio = prompt;
      break;
    case "instruct":
      instructText = support.instructStyle === "plain" && typeof req.instruct === "string" ? req.instruct : buildInstruction(req.instruct);
      if (support.instructNeeds === "voice" && req.voice) speaker = req.voice;
      if (support.instructNeeds === "promptAudio") audio = prompt;
      break;
  }
  const speed = req.speed ?? 1;
  const values: Record<ParamRole, unknown> = {
    text,
    mode: spec.modeLabels[req.mode],
    speaker,
    promptText,
    promptAudio: audio,
    // The microphone input is never used; Gradio needs an explicit null, not a missing value.
    promptRecord: null,
    instructText,
    // numpy's seed call fails on floats; the schema guarantees an integer.
    seed: req.seed ?? 0,
    // The UI's stream radio carries JSON booleans; speed only applies when not streaming.
    stream: (stream && speed === 1 ? spec.streamChoices.on : spec.streamChoices.off)[1],
    speed,
  };
  return spec.params.map((role) => values[role]);
}
