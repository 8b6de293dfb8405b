/**
 * What the `/v1` routes need from synthesis: the caller's voices, what the backend can do,
 * one job streamed, a voice saved. The routes only translate OpenAI's protocol; everything
 * here is the gateway's own pipeline, reached through {@link fromRouteContext}.
 */
import type { AudioChunk, BackendInfo } from "cosyvoice3-sdk";
import type { RouteContext } from "../context.ts";
import type { Lease } from "../pool.ts";
import type { SniffedAudio } from "../sniff-audio.ts";
import { builtinVoice, resolveVoice, savedVoice, toSdkRequest } from "../voices.ts";

/** A voice the caller may use. */
export interface SpeechVoice {
  /** `builtin:<speaker>` or `v_...` */
  id: string;
  name: string;
  kind: "builtin" | "cloned";
}

/** One synthesis job (one piece of a long input). */
export interface SpeechJob {
  /** Who asks (an API key's fingerprint); undefined for an open gateway. */
  owner: string | undefined;
  /** A voice id from {@link SpeechService.voices}. */
  voice: string;
  text: string;
  /** A free-text instruction: the job becomes an instruct job. */
  instruct?: string;
  /** 0.5 to 2.0. */
  speed?: number;
}

/** Per-job options. */
export interface SpeechJobOptions {
  signal: AbortSignal;
  /** A job slot the request already holds (kept across the pieces of one input). */
  lease?: Lease;
}

/** What the `/v1` routes call. */
export interface SpeechService {
  /** The voices `owner` may use: built-in speakers, then its saved voices. */
  voices(owner: string | undefined): Promise<SpeechVoice[]>;
  /** What the backend is and can do (modes, sample rate once known). */
  info(): Promise<BackendInfo>;
  /** Streams one job's AAC (ADTS) chunks as the backend yields them. */
  stream(job: SpeechJob, options: SpeechJobOptions): AsyncIterable<AudioChunk>;
  /** Saves a voice from checked prompt audio, for `owner`. */
  createVoice(owner: string | undefined, voice: { name: string; promptText?: string; upload: SniffedAudio }): Promise<SpeechVoice>;
}

/**
 * The service over the gateway's current parts (backend pool, voice store, the REST voice
 * rules), so `/v1` and REST synthesize the same way.
 * @example const speech = fromRouteContext(ctx); for await (const c of speech.stream(job, { signal })) ...
 */
export function fromRouteContext(ctx: RouteContext): SpeechService {
  const { backend, voices } = ctx.deps;
  return {
    async voices() {
      const [speakers, saved] = await Promise.all([backend.listVoices(), voices.list()]);
      return [
        ...speakers.filter((s) => s !== "").map((s) => ({ ...builtinVoice(s), kind: "builtin" as const })),
        ...saved.map((r) => ({ id: r.id, name: r.name, kind: "cloned" as const })),
      ];
    },
    info: () => backend.info(),
    async *stream(job, options) {
      const voice = await resolveVoice(job.voice, ctx.deps);
      const { request } = toSdkRequest(
        {
          text: job.text,
          voice: job.voice,
          ...(job.instruct !== undefined ? { instruct: job.instruct } : {}),
          ...(job.speed !== undefined ? { speed: job.speed } : {}),
        },
        voice,
      );
      yield* backend.stream(request, {
        signal: options.signal,
        timeoutMs: ctx.config.upstreamTimeoutMs,
        ...(options.lease ? { lease: options.lease } : {}),
      });
    },
    async createVoice(_owner, v) {
      const record = await voices.create({
        name: v.name,
        ...(v.promptText !== undefined ? { promptText: v.promptText } : {}),
        audio: { mimeType: v.upload.mimeType, ext: v.upload.ext, bytes: v.upload.data.byteLength, sampleRate: v.upload.sampleRate, durationMs: v.upload.durationMs },
        data: v.upload.data,
      });
      const shown = savedVoice(record);
      return { id: shown.id, name: shown.name, kind: "cloned" };
    },
  };
}
