/**
 * Voice ids and what a synthesis with a voice sends to the SDK. Built-in speakers are
 * `builtin:<name>`; saved voices are `v_` ids from the voice store.
 */
import type { Mode, SynthesisRequest } from "cosyvoice3-sdk";
import type { SynthesisBackend } from "./backend.ts";
import { BUILTIN_PREFIX, SAVED_VOICE_ID } from "./ids.ts";
import { HttpProblem } from "./problems.ts";
import type { SynthesizeBody, Voice } from "./schemas.ts";
import type { SavedVoiceRecord, VoiceStore } from "./stores/voice-store.ts";

/** A voice resolved for synthesis. */
export type ResolvedVoice =
  | { kind: "builtin"; id: string; name: string }
  | { kind: "cloned"; id: string; record: SavedVoiceRecord; audio: Uint8Array };

/** @example builtinVoice("中文女") // { id: "builtin:中文女", name: "中文女", kind: "builtin" } */
export function builtinVoice(name: string): Voice {
  return { id: BUILTIN_PREFIX + name, name, kind: "builtin" };
}

/** @example savedVoice(record) // { id: "v_...", name: "Ann", kind: "cloned", promptText, createdAt, audio } */
export function savedVoice(r: SavedVoiceRecord): Voice {
  return {
    id: r.id,
    name: r.name,
    kind: "cloned",
    ...(r.promptText !== undefined ? { promptText: r.promptText } : {}),
    createdAt: r.createdAt,
    audio: { mimeType: r.audio.mimeType, sampleRate: r.audio.sampleRate, durationMs: r.audio.durationMs, bytes: r.audio.bytes },
  };
}

const notFound = (id: string) => new HttpProblem("voice_not_found", { detail: `No voice with id ${JSON.stringify(id.slice(0, 200))}` });

/**
 * Finds a voice by id (a built-in one asks the backend for its speakers).
 * @throws HttpProblem `voice_not_found`
 * @example const voice = await findVoice("builtin:中文女", { backend, voices });
 */
export async function findVoice(id: string, deps: { backend: SynthesisBackend; voices: VoiceStore }): Promise<Voice> {
  if (id.startsWith(BUILTIN_PREFIX)) {
    const name = id.slice(BUILTIN_PREFIX.length);
    if (name !== "" && (await deps.backend.listVoices()).includes(name)) return builtinVoice(name);
    throw notFound(id);
  }
  const record = SAVED_VOICE_ID.test(id) ? await deps.voices.get(id) : undefined;
  if (!record) throw notFound(id);
  return savedVoice(record);
}

/**
 * Finds a voice for synthesis, with a saved voice's prompt audio.
 * @example const voice = await resolveVoice(body.voice, { backend, voices });
 */
export async function resolveVoice(id: string, deps: { backend: SynthesisBackend; voices: VoiceStore }): Promise<ResolvedVoice> {
  const voice = await findVoice(id, deps);
  if (voice.kind === "builtin") return { kind: "builtin", id: voice.id, name: voice.name };
  const record = await deps.voices.get(voice.id);
  const audio = record && (await deps.voices.readAudio(voice.id));
  if (!record || !audio) throw notFound(id);
  return { kind: "cloned", id: voice.id, record, audio };
}

const mismatch = (voice: ResolvedVoice, mode: Mode, why: string) =>
  new HttpProblem("voice_mode_mismatch", {
    detail: `Voice ${voice.id} cannot be used in ${mode} mode: ${why}`,
    errors: [{ pointer: "/mode", detail: why, code: "voice_mode_mismatch" }],
  });

/**
 * The SDK request for a REST body and its voice. The mode defaults from the voice: `pretrained`
 * for a built-in speaker, `instruct` when an instruction is given, `clone` for a saved voice
 * with a transcript, `crossLingual` for one without.
 * @throws HttpProblem `voice_mode_mismatch` or `invalid_request`
 * @example toSdkRequest({ text: "Hi.", voice: "v_..." }, voice) // { mode: "clone", text, promptAudio, promptText }
 */
export function toSdkRequest(body: SynthesizeBody, voice: ResolvedVoice): { mode: Mode; request: SynthesisRequest } {
  const mode: Mode =
    body.mode ??
    (body.instruct !== undefined
      ? "instruct"
      : voice.kind === "builtin"
        ? "pretrained"
        : voice.record.promptText !== undefined
          ? "clone"
          : "crossLingual");
  if (body.instruct !== undefined && mode !== "instruct") {
    throw new HttpProblem("invalid_request", {
      errors: [{ pointer: "/instruct", detail: `instruct applies only to instruct mode, not ${mode}`, code: "mode" }],
    });
  }
  const common = {
    text: body.text,
    ...(body.speed !== undefined ? { speed: body.speed } : {}),
    ...(body.seed !== undefined ? { seed: body.seed } : {}),
  };
  const promptAudio = (v: Extract<ResolvedVoice, { kind: "cloned" }>) => ({
    data: v.audio,
    name: `${v.record.id}.${v.record.audio.ext}`,
    mimeType: v.record.audio.mimeType,
  });
  switch (mode) {
    case "pretrained":
      if (voice.kind !== "builtin") throw mismatch(voice, mode, "pretrained mode needs a built-in voice");
      return { mode, request: { mode, ...common, voice: voice.name } };
    case "clone":
      if (voice.kind !== "cloned") throw mismatch(voice, mode, "clone mode needs a saved voice");
      if (voice.record.promptText === undefined) throw mismatch(voice, mode, "the voice was saved without promptText");
      return { mode, request: { mode, ...common, promptAudio: promptAudio(voice), promptText: voice.record.promptText } };
    case "crossLingual":
      if (voice.kind !== "cloned") throw mismatch(voice, mode, "cross-lingual mode needs a saved voice");
      return { mode, request: { mode, ...common, promptAudio: promptAudio(voice) } };
    case "instruct":
      if (body.instruct === undefined) {
        throw new HttpProblem("invalid_request", { errors: [{ pointer: "/instruct", detail: "instruct mode needs an instruction", code: "required" }] });
      }
      return {
        mode,
        request:
          voice.kind === "builtin"
            ? { mode, ...common, instruct: body.instruct, voice: voice.name }
            : { mode, ...common, instruct: body.instruct, promptAudio: promptAudio(voice) },
      };
  }
}
