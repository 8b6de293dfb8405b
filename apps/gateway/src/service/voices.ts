/**
 * Voice ids and what a synthesis with a voice sends to the SDK. Built-in speakers are
 * `builtin:<name>`; saved voices are `v_` ids from the voice store, each seen only by its owner
 * (and admins): another owner's voice is as unknown as one that never existed.
 */
import type { Instruct, Mode, SynthesisRequest } from "cosyvoice3-sdk";
import { SynthesisInputError, VoiceModeMismatchError, VoiceNotFoundError, VoiceReadOnlyError } from "./errors.ts";
import { BUILTIN_PREFIX, SAVED_VOICE_ID } from "../platform/ids.ts";
import { mayAccess, type Caller } from "./owners.ts";
import type { Voice } from "../doors/rest/schemas.ts";
import type { SavedVoiceRecord, VoiceStore } from "../platform/stores/voice-store.ts";

/** Where voices come from: the backends' built-in speakers and the voice store. */
export interface VoiceSources {
  /** The built-in speakers (of the first ready backend). */
  speakers(signal?: AbortSignal): Promise<string[]>;
  voices: VoiceStore;
}

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

/**
 * Settles like `work`, or rejects with the signal's reason as soon as it aborts (the work itself
 * is shared, e.g. a backend connect, so it is left to finish for the next caller).
 */
function withinSignal<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** The caller's saved voice, or undefined (unknown, malformed id, or another owner's). */
async function ownedRecord(id: string, caller: Caller, voices: VoiceStore): Promise<SavedVoiceRecord | undefined> {
  const record = SAVED_VOICE_ID.test(id) ? await voices.get(id) : undefined;
  return record && mayAccess(caller, record.owner) ? record : undefined;
}

/**
 * Every voice the caller may use: the built-in speakers, then their own saved voices (all of
 * them for an admin).
 * @example const list = await listVoices({ owner: "key:abc" }, sources);
 */
export async function listVoices(caller: Caller, src: VoiceSources, signal?: AbortSignal): Promise<Voice[]> {
  const [speakers, saved] = await withinSignal(Promise.all([src.speakers(signal), src.voices.list()]), signal);
  return [...speakers.filter((s) => s !== "").map(builtinVoice), ...saved.filter((r) => mayAccess(caller, r.owner)).map(savedVoice)];
}

/** Where the right id comes from, for a voice id that names nothing. */
function notFoundHint(id: string, speakers: string[] | undefined): string {
  if (speakers?.length === 0) {
    return "this backend has no built-in speakers (only CosyVoice 1 models have them); save a voice with POST /voices and use the v_ id it answers";
  }
  if (speakers) return `the built-in speakers here are ${speakers.slice(0, 10).map((s) => BUILTIN_PREFIX + s).join(", ")}`;
  if (!SAVED_VOICE_ID.test(id)) return "voice ids are the v_ ids POST /voices answers (GET /voices lists them), or builtin:<speaker>";
  return "it is not one of your saved voices (GET /voices lists them)";
}

/**
 * Finds a voice by id for the caller (a built-in one asks the backend for its speakers).
 * @throws VoiceNotFoundError (also for another owner's voice)
 * @example const voice = await findVoice("builtin:中文女", caller, sources);
 */
export async function findVoice(id: string, caller: Caller, src: VoiceSources, signal?: AbortSignal): Promise<Voice> {
  if (id.startsWith(BUILTIN_PREFIX)) {
    const name = id.slice(BUILTIN_PREFIX.length);
    const speakers = (await withinSignal(src.speakers(signal), signal)).filter((s) => s !== "");
    if (name !== "" && speakers.includes(name)) return builtinVoice(name);
    throw new VoiceNotFoundError(id, notFoundHint(id, speakers));
  }
  const record = await withinSignal(ownedRecord(id, caller, src.voices), signal);
  if (!record) throw new VoiceNotFoundError(id, notFoundHint(id, undefined));
  return savedVoice(record);
}

/**
 * Finds a voice for synthesis, with a saved voice's prompt audio.
 * @throws VoiceNotFoundError
 * @example const voice = await resolveVoice(input.voice, caller, sources, signal);
 */
export async function resolveVoice(id: string, caller: Caller, src: VoiceSources, signal?: AbortSignal): Promise<ResolvedVoice> {
  if (id.startsWith(BUILTIN_PREFIX)) {
    const voice = await findVoice(id, caller, src, signal);
    return { kind: "builtin", id: voice.id, name: voice.name };
  }
  const record = await withinSignal(ownedRecord(id, caller, src.voices), signal);
  const audio = record && (await withinSignal(src.voices.readAudio(record.id), signal));
  if (!record || !audio) throw new VoiceNotFoundError(id, notFoundHint(id, undefined));
  return { kind: "cloned", id: record.id, record, audio };
}

/**
 * Deletes the caller's saved voice.
 * @throws VoiceReadOnlyError for a built-in voice, VoiceNotFoundError (also for another owner's)
 * @example await deleteVoice("v_...", caller, sources);
 */
export async function deleteVoice(id: string, caller: Caller, src: VoiceSources): Promise<void> {
  if (id.startsWith(BUILTIN_PREFIX)) {
    await findVoice(id, caller, src);
    throw new VoiceReadOnlyError();
  }
  const record = await ownedRecord(id, caller, src.voices);
  if (!record || !(await src.voices.delete(record.id))) throw new VoiceNotFoundError(id);
}

/** What a synthesis asks for, independent of the door it came through. */
export interface VoiceRequest {
  text: string;
  mode?: Mode | undefined;
  instruct?: Instruct | undefined;
  speed?: number | undefined;
  seed?: number | undefined;
}

/**
 * The SDK request for a synthesis and its voice. The mode defaults from the voice: `pretrained`
 * for a built-in speaker, `instruct` when an instruction is given, `clone` for a saved voice
 * with a transcript, `crossLingual` for one without.
 * @throws VoiceModeMismatchError, SynthesisInputError
 * @example toSdkRequest({ text: "Hi.", voice: "v_..." }, voice) // { mode: "clone", text, promptAudio, promptText }
 */
export function toSdkRequest(body: VoiceRequest, voice: ResolvedVoice): { mode: Mode; request: SynthesisRequest } {
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
    throw new SynthesisInputError([{ path: ["instruct"], message: `instruct applies only to instruct mode, not ${mode}`, code: "mode" }]);
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
      if (voice.kind !== "builtin") throw new VoiceModeMismatchError(voice.id, mode, "pretrained mode needs a built-in voice");
      return { mode, request: { mode, ...common, voice: voice.name } };
    case "clone":
      if (voice.kind !== "cloned") throw new VoiceModeMismatchError(voice.id, mode, "clone mode needs a saved voice");
      if (voice.record.promptText === undefined) throw new VoiceModeMismatchError(voice.id, mode, "the voice was saved without promptText");
      return { mode, request: { mode, ...common, promptAudio: promptAudio(voice), promptText: voice.record.promptText } };
    case "crossLingual":
      if (voice.kind !== "cloned") throw new VoiceModeMismatchError(voice.id, mode, "cross-lingual mode needs a saved voice");
      return { mode, request: { mode, ...common, promptAudio: promptAudio(voice) } };
    case "instruct":
      if (body.instruct === undefined) {
        throw new SynthesisInputError([{ path: ["instruct"], message: "instruct mode needs an instruction", code: "required" }]);
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
