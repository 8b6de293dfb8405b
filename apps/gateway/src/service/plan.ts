/**
 * A synthesis planned once, at the door: the voice resolved for its owner (a saved voice's
 * prompt audio read from the store once), the mode, the backend request, what a box must offer
 * to run it, and the cache's content key. Every door (REST, `/v1`, the jobs' segments) plans and
 * hands the plan down; the cache and the synthesis service never resolve a voice themselves.
 * Everything the input gets wrong is refused here, before any box is asked for anything.
 */
import type { Instruct, Mode, SynthesisRequest } from "cosyvoice3-sdk";
import { createHash } from "node:crypto";
import { needsOf, type BackendPool, type JobNeeds } from "../backends/pool/index.ts";
import { BUILTIN_PREFIX } from "../platform/ids.ts";
import type { VoiceStore } from "../platform/stores/voice-store.ts";
import { cacheKey, PromptHashes, type SynthesisFingerprint } from "./cache/key.ts";
import type { Caller } from "./owners.ts";
import { resolveVoice, toSdkRequest, type ResolvedVoice } from "./voices.ts";

/** What to synthesize, whichever door it came through. */
export interface SynthesisInput extends Caller {
  /** A voice id: `builtin:<speaker>` or a saved voice's `v_...` id (the caller's own). */
  voice: string;
  /** @default from the voice: `pretrained` (built-in), `instruct` (with `instruct`), `clone` (saved with a transcript), else `crossLingual` */
  mode?: Mode | undefined;
  text: string;
  instruct?: Instruct | undefined;
  speed?: number | undefined;
  seed?: number | undefined;
}

/** A synthesis as every layer below the door sees it. Plain data: plan once, pass it down. */
export interface SynthesisPlan {
  /** Who asked (owner and admin flag): the stored clip is theirs. */
  caller: Caller;
  /** The voice, resolved once (a saved voice with its prompt audio bytes). */
  voice: ResolvedVoice;
  mode: Mode;
  text: string;
  instruct?: Instruct | undefined;
  speed?: number | undefined;
  seed?: number | undefined;
  /** What goes to the box (the SDK's request shape, prompt audio as bytes). */
  request: SynthesisRequest;
  /** What a box must offer to run it (the pool chooses only such boxes). */
  needs: JobNeeds;
  /**
   * The content key (every format): equal exactly when a box would make the same audio. Absent
   * when the plan was made without a cache, or before any box said what it runs.
   */
  cacheKey?: string | undefined;
  /** What the key was made from (kept so a piece of a long input is keyed without the store). */
  fingerprint?: Omit<SynthesisFingerprint, "format"> | undefined;
}

/** What {@link planSynthesis} reads. */
export interface PlanDeps {
  voices: VoiceStore;
  /** What the pool knows of its boxes (no network call), its speakers, and a first box's description. */
  pool: Pick<BackendPool, "backends" | "listVoices" | "info">;
  /** Make the cache key (only when there is a cache: keying may ask a box what it runs). @default false */
  keyed?: boolean;
  /** Remembered prompt-audio hashes. @default a new memo per call */
  hashes?: PromptHashes;
}

/**
 * A built-in speaker a box was seen to have (also a box down since: a cache hit needs no box),
 * without asking any box; else the pool is asked (and says which speakers exist when none has it).
 */
async function voiceOf(input: SynthesisInput, deps: PlanDeps, signal: AbortSignal | undefined): Promise<ResolvedVoice> {
  if (input.voice.startsWith(BUILTIN_PREFIX)) {
    const name = input.voice.slice(BUILTIN_PREFIX.length);
    if (name !== "" && deps.pool.backends().some((b) => b.speakers?.includes(name))) return { kind: "builtin", id: input.voice, name };
  }
  return resolveVoice(input.voice, input, { voices: deps.voices, speakers: () => deps.pool.listVoices() }, signal);
}

/** The model and UI variant the boxes run, as last seen; before any box is known, the first that answers. */
async function runsWhat(pool: PlanDeps["pool"]): Promise<{ model: string; variant: string } | undefined> {
  const seen = pool.backends().find((b) => b.model !== undefined && b.variant !== undefined);
  if (seen?.model !== undefined && seen.variant !== undefined) return { model: seen.model, variant: seen.variant };
  // None: no caching, and the job itself gives the real error.
  return pool.info().then(
    (i) => ({ model: i.model, variant: i.variant }),
    () => undefined,
  );
}

/**
 * Plans one synthesis.
 * @throws VoiceNotFoundError (also another owner's voice), VoiceModeMismatchError, SynthesisInputError
 * @example
 * const plan = await planSynthesis({ owner, voice: "v_...", text: "Hi." }, { voices, pool, keyed: true }, signal);
 * for await (const chunk of synthesis.stream(plan, { signal })) ...
 */
export async function planSynthesis(input: SynthesisInput, deps: PlanDeps, signal?: AbortSignal): Promise<SynthesisPlan> {
  const voice = await voiceOf(input, deps, signal);
  const { mode, request } = toSdkRequest(input, voice);
  const caller: Caller = { owner: input.owner, ...(input.admin !== undefined ? { admin: input.admin } : {}) };
  const plan: SynthesisPlan = {
    caller,
    voice,
    mode,
    text: request.text,
    ...(input.instruct !== undefined ? { instruct: input.instruct } : {}),
    ...(request.speed !== undefined ? { speed: request.speed } : {}),
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
    request,
    needs: needsOf(request),
  };
  if (!deps.keyed) return plan;
  const runs = await runsWhat(deps.pool);
  if (!runs) return plan;
  const hashes = deps.hashes ?? new PromptHashes();
  const fingerprint: Omit<SynthesisFingerprint, "format"> = {
    model: runs.model,
    variant: runs.variant,
    mode,
    text: request.text,
    // The SDK sends 0 without a seed, so no seed and seed 0 are the same request.
    seed: request.seed ?? 0,
    speed: request.speed,
    instruct: "instruct" in request ? request.instruct : undefined,
    ...(voice.kind === "builtin" ? { speaker: voice.name } : { promptAudioSha256: hashes.of(voice.id, voice.audio), promptText: voice.record.promptText }),
  };
  return { ...plan, fingerprint, cacheKey: cacheKey({ ...fingerprint, format: "any" }) };
}

/**
 * The same plan for another text (a piece of a long input): nothing is read again.
 * @example const pieces = texts.map((t) => withText(plan, t));
 */
export function withText(plan: SynthesisPlan, text: string): SynthesisPlan {
  const request = { ...plan.request, text } as SynthesisRequest;
  if (!plan.fingerprint) return { ...plan, text, request };
  const fingerprint = { ...plan.fingerprint, text };
  return { ...plan, text, request, fingerprint, cacheKey: cacheKey({ ...fingerprint, format: "any" }) };
}

/**
 * The key of one form of a planned answer: `wav` (a whole clip), `aac` (a stream), or an encoded
 * answer (`mp3`, ...). 22 base64url characters, usable as a store id.
 * @example formatKey(plan.cacheKey, "mp3")
 */
export function formatKey(key: string, format: string): string {
  return createHash("sha256").update(`${key}\n${format}`).digest("base64url").slice(0, 22);
}
