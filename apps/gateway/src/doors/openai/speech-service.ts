/**
 * What the `/v1` routes need from the gateway: the caller's voices, what the backend can do,
 * one job streamed (through the synthesis service: owners, voice resolution, caps, deadline
 * and clip storage come from there), a voice saved. The routes only translate OpenAI's protocol.
 */
import type { BoxInfo } from "../../backends/port.ts";
import type { RouteContext } from "../../context.ts";
import type { Caller } from "../../service/owners.ts";
import type { SniffedAudio } from "../../service/sniff-audio.ts";
import type { EncodedAnswers, SynthesisPlan, SynthesisStream } from "../../service/synthesis/service.ts";
import { listVoices, type VoiceSources } from "../../service/voices.ts";

/** A voice the caller may use. */
export interface SpeechVoice {
  /** `builtin:<speaker>` or `v_...` */
  id: string;
  name: string;
  kind: "builtin" | "cloned";
}

/** One synthesis (a long input's first piece: the others are its plan with their text). */
export interface SpeechJob {
  caller: Caller;
  /** A voice id from {@link SpeechService.voices}. */
  voice: string;
  text: string;
  /** A free-text instruction: the job becomes an instruct job. */
  instruct?: string;
  /** 0.5 to 2.0. */
  speed?: number;
}

/** What the `/v1` routes call. */
export interface SpeechService {
  /** The voices the caller may use: built-in speakers, then their saved voices. */
  voices(caller: Caller, signal?: AbortSignal): Promise<SpeechVoice[]>;
  /** What the backend is and can do (modes, sample rate once known). */
  info(): Promise<BoxInfo>;
  /** Plans the job once (the voice resolved, its prompt audio read once); refuses bad input before any box is asked. */
  plan(job: SpeechJob, options: { signal: AbortSignal }): Promise<SynthesisPlan>;
  /** Streams one planned job's chunks as the backend yields them; the clip is stored at its end. */
  stream(plan: SynthesisPlan, options: { signal: AbortSignal }): SynthesisStream;
  /** Whole answers kept by plan and format (with a cache): a repeated request is answered from bytes. */
  readonly answers?: EncodedAnswers | undefined;
  /** Saves a voice from checked prompt audio, for the caller. */
  createVoice(caller: Caller, voice: { name: string; promptText?: string; upload: SniffedAudio }): Promise<SpeechVoice>;
}

/**
 * The service over the gateway's parts: the synthesis service for jobs, the voice rules and
 * store for voices, so `/v1` and REST synthesize and see voices the same way.
 * @example const speech = fromRouteContext(ctx); for await (const c of speech.stream(await speech.plan(job, { signal }), { signal })) ...
 */
export function fromRouteContext(ctx: RouteContext): SpeechService {
  const { backend, voices, synthesis } = ctx.deps;
  const sources: VoiceSources = { voices, speakers: () => backend.listVoices() };
  return {
    async voices(caller, signal) {
      return (await listVoices(caller, sources, signal)).map((v) => ({ id: v.id, name: v.name, kind: v.kind }));
    },
    info: () => backend.info(),
    plan(job, options) {
      return synthesis.plan(
        {
          ...job.caller,
          voice: job.voice,
          text: job.text,
          ...(job.instruct !== undefined ? { instruct: job.instruct } : {}),
          ...(job.speed !== undefined ? { speed: job.speed } : {}),
        },
        { signal: options.signal },
      );
    },
    stream: (plan, options) => synthesis.stream(plan, { signal: options.signal }),
    answers: synthesis.answers,
    async createVoice(caller, v) {
      const record = await voices.create({
        owner: caller.owner,
        name: v.name,
        ...(v.promptText !== undefined ? { promptText: v.promptText } : {}),
        audio: { mimeType: v.upload.mimeType, ext: v.upload.ext, bytes: v.upload.data.byteLength, sampleRate: v.upload.sampleRate, durationMs: v.upload.durationMs },
        data: v.upload.data,
      });
      return { id: record.id, name: record.name, kind: "cloned" };
    },
  };
}
