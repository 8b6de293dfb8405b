/**
 * The one place a narration job meets the synthesis service. A job is planned once (its voice
 * resolved, a saved voice's prompt audio read once per job run) and each segment is that plan
 * with the segment's text. Segments go through the same service as interactive requests (the
 * same cache, caps, breaker and pool) at `background` priority, and come back as PCM with its
 * exact length.
 */
import type { BackendPool } from "../backends/pool/index.ts";
import type { AudioStore } from "../platform/stores/audio-store.ts";
import type { VoiceStore } from "../platform/stores/voice-store.ts";
import type { SynthesisInput, SynthesisPlan, SynthesisService } from "../service/synthesis/service.ts";
import { withText } from "../service/plan.ts";
import { toHttpProblem } from "../doors/problems.ts";
import { UnsupportedModeError } from "cosyvoice3-sdk";
import type { Mode } from "cosyvoice3-sdk";
import { pcmOfWav, pcmDurationMs, type Pcm } from "./wav.ts";

/** What a job synthesizes, besides each segment's text. */
export type JobVoiceInput = Omit<SynthesisInput, "text">;

/** One segment's audio. */
export interface SegmentAudio extends Pcm {
  /** @unit milliseconds */
  durationMs: number;
  backend: string;
  /** @unit milliseconds */
  synthMs: number;
}

/** What {@link createSegmentRunner} is built from. */
export interface SegmentRunnerDeps {
  synthesis: SynthesisService;
  pool: BackendPool;
  voices: VoiceStore;
  audio: AudioStore;
  /** Deadline of one segment, slot wait included. @unit milliseconds */
  timeoutMs: number;
}

/** Runs segments; see {@link createSegmentRunner}. */
export interface SegmentRunner {
  /**
   * Checks up front what would fail every segment: the voice (the caller's own), the mode for
   * that voice, instruct outside instruct mode, a mode no backend offers.
   * @throws VoiceNotFoundError, VoiceModeMismatchError, SynthesisInputError, UnsupportedModeError
   */
  check(input: JobVoiceInput & { text: string }, signal?: AbortSignal): Promise<{ mode: Mode }>;
  /** Synthesizes one segment at background priority (the job is planned on its first segment; pass the same `input` object for every segment of a run). */
  run(input: JobVoiceInput, text: string, signal: AbortSignal): Promise<SegmentAudio>;
  /** True when trying the segment again may succeed (the failure is not the input's). */
  retryable(err: unknown): boolean;
}

/**
 * @example
 * const runner = createSegmentRunner({ synthesis, pool, voices, audio, timeoutMs: 120_000 });
 * const { data, sampleRate } = await runner.run(input, segment.speak, signal);
 */
export function createSegmentRunner(deps: SegmentRunnerDeps): SegmentRunner {
  // One plan per job run: the worker passes the same input object for each of its segments.
  const plans = new WeakMap<JobVoiceInput, Promise<SynthesisPlan>>();
  const planOf = (input: JobVoiceInput, text: string, signal: AbortSignal): Promise<SynthesisPlan> => {
    let p = plans.get(input);
    if (!p) {
      const planned = deps.synthesis.plan({ ...input, text }, { signal });
      // A failed plan (the voice deleted meanwhile, a store outage) is not kept: the next segment tries again.
      planned.catch(() => plans.delete(input));
      plans.set(input, (p = planned));
    }
    return p;
  };
  return {
    async check(input, signal) {
      const { mode } = await deps.synthesis.plan(input, { signal });
      const known = deps.pool.backends().filter((b) => b.modes !== undefined);
      // Only when every box has told its modes: an unseen box may still offer it.
      if (known.length === deps.pool.backends().length && known.length > 0 && !known.some((b) => b.modes?.includes(mode))) {
        throw new UnsupportedModeError(mode, known.map((b) => b.variant ?? "unknown").join(", "), `no backend here offers ${mode} mode`);
      }
      return { mode };
    },
    async run(input, text, signal) {
      const started = Date.now();
      const plan = withText(await planOf(input, text, signal), text);
      const clip = await deps.synthesis.synthesize(plan, { signal, timeoutMs: deps.timeoutMs, priority: "background" });
      const synthMs = Date.now() - started;
      const body = await deps.audio.read(clip.id);
      if (!body) throw new Error("a segment's clip was gone before it was read");
      const parts: Buffer[] = [];
      for await (const part of body as AsyncIterable<Buffer>) parts.push(part);
      const pcm = pcmOfWav(Buffer.concat(parts));
      return { ...pcm, durationMs: pcmDurationMs(pcm), backend: clip.backend, synthMs };
    },
    retryable(err) {
      // The problem table says whose fault a failure is: 5xx and 429 are not the input's.
      const status = toHttpProblem(err).status;
      return status >= 500 || status === 429;
    },
  };
}
