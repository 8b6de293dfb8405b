/**
 * Which of the caller's voices an OpenAI `voice` means, and whether its `instructions` can be
 * followed with it. Pure: the lists come from the synthesis service and the configuration.
 */
import type { BoxInfo } from "../../backends/port.ts";
import type { SpeechVoice } from "./speech-service.ts";

/** OpenAI's `voice`: a name, or `{ "id": ... }` for a custom voice. */
export type RequestedVoice = string | { id: string };

/** The voice found, and the alias it was reached through, if any. */
export interface VoiceChoice {
  voice: SpeechVoice;
  alias?: string;
}

const BUILTIN = "builtin:";

function byIdOrName(wanted: string, voices: readonly SpeechVoice[]): SpeechVoice | undefined {
  return (
    voices.find((v) => v.id === wanted) ??
    // A built-in speaker by its bare name (`中文女` for `builtin:中文女`).
    voices.find((v) => v.kind === "builtin" && v.id === BUILTIN + wanted) ??
    // A saved voice's display name; names are not unique, the first listed wins (the id is exact).
    voices.find((v) => v.kind === "cloned" && v.name === wanted) ??
    voices.find((v) => v.name.toLowerCase() === wanted.toLowerCase())
  );
}

/**
 * Resolves a requested voice: by id (`v_...`, `builtin:...`; the only form `{id}` takes), by a
 * built-in speaker's name, by a saved voice's name, then through the configured aliases
 * (`alloy` -> a voice id or name, resolved the same way). The caller's own voices come before an
 * alias, so a user who saved a voice named "nova" gets it.
 * @example chooseVoice("alloy", voices, { alloy: "builtin:中文女" }) // { voice: { id: "builtin:中文女", ... }, alias: "alloy" }
 */
export function chooseVoice(requested: RequestedVoice, voices: readonly SpeechVoice[], aliases: Readonly<Record<string, string>>): VoiceChoice | undefined {
  if (typeof requested !== "string") {
    const voice = voices.find((v) => v.id === requested.id);
    return voice ? { voice } : undefined;
  }
  const wanted = requested.trim();
  const own = byIdOrName(wanted, voices);
  if (own) return { voice: own };
  const aliasName = Object.keys(aliases).find((a) => a.toLowerCase() === wanted.toLowerCase());
  const target = aliasName !== undefined ? aliases[aliasName] : undefined;
  if (aliasName === undefined || target === undefined) return undefined;
  const voice = byIdOrName(target, voices);
  return voice ? { voice, alias: aliasName } : undefined;
}

/**
 * What the voice list in an unknown-voice error says: a few of the names the caller can use.
 * @example usableVoicesText(voices, aliases) // "v_abc (Ann), builtin:中文女, alloy"
 */
export function usableVoicesText(voices: readonly SpeechVoice[], aliases: Readonly<Record<string, string>>, max = 30): string {
  const names = [
    ...voices.map((v) => (v.kind === "cloned" ? `${v.id} (${v.name})` : v.id)),
    ...Object.keys(aliases).filter((a) => chooseVoice(a, voices, aliases) !== undefined),
  ];
  if (names.length === 0) return "none yet: save one with POST /v1/audio/voices or POST /voices";
  return names.length > max ? `${names.slice(0, max).join(", ")} and ${names.length - max} more (GET /v1/audio/voices)` : names.join(", ");
}

/** The kind of voice a box's instruct form works with (design note: instruct vs instruct2). */
const INSTRUCT_VOICE: Record<NonNullable<BoxInfo["instructNeeds"]>, { kind: SpeechVoice["kind"]; why: string }> = {
  // CosyVoice 1's inference_instruct: a built-in speaker plus the instruction.
  voice: { kind: "builtin", why: "this backend follows instructions only with a built-in speaker (a CosyVoice 1 instruct model)" },
  // CosyVoice2/3's inference_instruct2: the voice's prompt audio plus the instruction.
  promptAudio: { kind: "cloned", why: "this backend follows instructions with a saved voice's prompt audio (instruct2)" },
};

/**
 * Why `instructions` cannot be followed with this backend and voice, or undefined when they can.
 * @example instructionsRefusal(info, voice) // "this backend (official web UI, cosyvoice3) cannot follow instructions: ..."
 */
export function instructionsRefusal(info: Pick<BoxInfo, "variant" | "model" | "modes" | "instructNeeds">, voice: SpeechVoice): string | undefined {
  if (!info.modes.includes("instruct") || info.instructNeeds === undefined) {
    const why = info.variant === "official" ? "the official web UI follows instructions only with a built-in speaker of a CosyVoice 1 model" : "it has no instruct mode";
    return `this backend (${info.variant}${info.variant === "official" || info.variant === "cv3-en" ? " web UI" : ""}, ${info.model}) cannot follow instructions: ${why}; send the request without instructions`;
  }
  const needs = INSTRUCT_VOICE[info.instructNeeds];
  if (voice.kind !== needs.kind) {
    return `voice ${voice.id} cannot take instructions: ${needs.why}`;
  }
  return undefined;
}
