/**
 * The one synthesis pipeline every door calls (REST `/synthesize`, the OpenAI route, the jobs'
 * segments, in-process callers): the door plans the synthesis once (`plan`: the voice resolved
 * for its owner, the mode, the request, the needs, the cache key) and hands the plan here; this
 * takes a backend slot a box with those needs has, runs the job on the pool, stores the clip and
 * reports progress. One AbortSignal ends all of it: the caller's own (client gone), the deadline
 * and the gateway's shutdown, each aborting with a domain error as its reason. Doors only
 * translate their protocol.
 */
import type { Mode, Progress } from "cosyvoice3-sdk";
import type { BackendChunk } from "../../backends/port.ts";
import { pcmToWav } from "../encode/wav.ts";
import type { Logger } from "pino";
import { newId } from "../../platform/ids.ts";
import { CallerGoneError, NoAudioError } from "../errors.ts";
import type { BackendPool, Lease } from "../../backends/pool/index.ts";
import type { AudioStore } from "../../platform/stores/audio-store.ts";
import type { VoiceStore } from "../../platform/stores/voice-store.ts";
import { planSynthesis, type SynthesisInput, type SynthesisPlan } from "../plan.ts";
import { PromptHashes } from "../cache/key.ts";
import { adtsSampleRate } from "./adts.ts";
import { jobScope } from "./scope.ts";

export type { SynthesisInput, SynthesisPlan } from "../plan.ts";

/** Per-call options of {@link SynthesisService}. */
export interface SynthesisOptions {
  /** The caller's own signal (e.g. the client disconnected); its reason, if a domain error, is kept. */
  signal?: AbortSignal;
  /** Deadline of the whole call, slot wait included. @default the service's timeoutMs @unit milliseconds */
  timeoutMs?: number;
  /** Queue position, start and each chunk, as the backend reports them. */
  onProgress?: (p: Progress) => void;
  /** `background` (a narration job's segment) never holds a job slot an interactive request waits for. @default "interactive" */
  priority?: "interactive" | "background";
}

/** A stored clip, as every door describes it. */
export interface StoredClip {
  /** `a_` + 22 characters; `GET /audio/{id}` serves it. */
  id: string;
  owner: string;
  mimeType: string;
  /** @unit bytes */
  bytes: number;
  /** Of the backend that produced it (undefined when that backend did not say). @unit hertz */
  sampleRate: number | undefined;
  /** @unit milliseconds */
  durationMs: number;
  /** Chunks (sentences) the model produced (for a stream: the chunks streamed). */
  chunks: number;
  /** The voice id used. */
  voice: string;
  mode: Mode;
  /** The pool member that ran the job, e.g. `backend-2` (for logs; never its URL). */
  backend: string;
  /** @unit milliseconds since the epoch */
  expiresAt: number;
}

/**
 * A streamed synthesis: iterate it for chunks as the box makes them (AAC in ADTS frames from a
 * Gradio box, raw PCM from the others; each chunk says). The clip id
 * is known before the first chunk; the clip is stored when the last chunk has been read (before
 * the iterator reports done). Breaking out of the loop (or `return()`) cancels the job.
 */
export interface SynthesisStream extends AsyncIterable<BackendChunk> {
  readonly id: string;
  /**
   * Aborts when the stream's job is over for any reason (deadline, caller, shutdown, its end):
   * a door waiting on its own client (a full socket) waits on this too.
   */
  readonly signal: AbortSignal;
  /** Resolves once the clip is stored; rejects with the stream's error (never unhandled). */
  readonly clip: Promise<StoredClip>;
}

/** What {@link createSynthesisService} is built from. */
export interface SynthesisDeps {
  pool: BackendPool;
  voices: VoiceStore;
  audio: AudioStore;
  logger: Logger;
  /** Default deadline of one call. @unit milliseconds */
  timeoutMs: number;
  /** Aborts every running call when it fires (graceful shutdown). */
  shutdown?: AbortSignal;
  /** Plans carry the cache's content key (set when a cache wraps the service). @default false */
  keyed?: boolean;
}

/** A whole answer as a door sent it, in one format (e.g. the MP3 of a `/v1` request). */
export interface EncodedAnswer {
  /** Content-Type of the answer. */
  mimeType: string;
  /** Of the answer. @unit hertz */
  sampleRate?: number | undefined;
  /** @unit milliseconds */
  durationMs: number;
  audio: Uint8Array;
}

/**
 * Answers kept in their encoded form by plan and format (with a cache): a repeated request is
 * then answered from bytes, without a box, a slot or an encoder.
 */
export interface EncodedAnswers {
  /** The answer given before to an identical plan in this format; undefined without one (or without a content key). */
  get(plan: SynthesisPlan, format: string): Promise<EncodedAnswer | undefined>;
  /** Keeps a complete answer (never a partial one: the door calls this after its last byte). */
  keep(plan: SynthesisPlan, format: string, answer: EncodedAnswer): void;
}

/** The synthesis pipeline; see {@link createSynthesisService}. */
export interface SynthesisService {
  /**
   * Plans a synthesis (see `plan.ts`): what the door does once, before anything else runs.
   * @throws VoiceNotFoundError, VoiceModeMismatchError, SynthesisInputError
   */
  plan(input: SynthesisInput, opts?: { signal?: AbortSignal | undefined }): Promise<SynthesisPlan>;
  /** Synthesizes a whole clip (WAV), stores it, and returns its description. */
  synthesize(plan: SynthesisPlan, opts?: SynthesisOptions): Promise<StoredClip>;
  /** Streams the clip as it is made; nothing runs until the first `next()`. */
  stream(plan: SynthesisPlan, opts?: SynthesisOptions): SynthesisStream;
  /** Encoded answers, when a cache is in front. */
  readonly answers?: EncodedAnswers | undefined;
}

/**
 * @example
 * const synthesis = createSynthesisService({ pool, voices, audio, logger, timeoutMs: 60_000, shutdown });
 * const plan = await synthesis.plan({ owner: "anonymous", voice: "builtin:中文女", text: "你好。" }, { signal });
 * const clip = await synthesis.synthesize(plan, { signal });
 * for await (const chunk of synthesis.stream(plan, { signal })) res.write(chunk.data);
 */
export function createSynthesisService(deps: SynthesisDeps): SynthesisService {
  const { pool, audio } = deps;
  const planDeps = { voices: deps.voices, pool, keyed: deps.keyed ?? false, hashes: new PromptHashes() };

  /** Takes a slot on a box that can run the plan (its mode, speaker, instruct form), within the signal. */
  const acquire = (plan: SynthesisPlan, signal: AbortSignal, priority: SynthesisOptions["priority"]) => pool.acquire(signal, { needs: plan.needs, priority });

  const poolOptions = (signal: AbortSignal, lease: Lease, timeoutMs: number, opts: SynthesisOptions) => ({
    signal,
    lease,
    timeoutMs,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });

  async function synthesize(plan: SynthesisPlan, opts: SynthesisOptions = {}): Promise<StoredClip> {
    const scope = jobScope({ signal: opts.signal, timeoutMs: opts.timeoutMs ?? deps.timeoutMs, shutdown: deps.shutdown });
    const owner = plan.caller.owner;
    try {
      const lease = await acquire(plan, scope.signal, opts.priority);
      try {
        const result = await pool.synthesize(plan.request, poolOptions(scope.signal, lease, scope.timeoutMs, opts));
        const id = newId("a_");
        const meta = await audio.put(
          { id, owner, mimeType: result.mimeType, sampleRate: result.sampleRate, durationMs: result.durationMs },
          result.audio,
        );
        return {
          id,
          owner,
          mimeType: meta.mimeType,
          bytes: meta.bytes,
          sampleRate: result.sampleRate,
          durationMs: result.durationMs,
          chunks: result.chunks,
          voice: plan.voice.id,
          mode: plan.mode,
          backend: lease.backend,
          expiresAt: meta.expiresAt,
        };
      } finally {
        lease.release();
      }
    } catch (err) {
      throw scope.explain(err);
    } finally {
      scope.close();
    }
  }

  function stream(plan: SynthesisPlan, opts: SynthesisOptions = {}): SynthesisStream {
    const owner = plan.caller.owner;
    const id = newId("a_");
    let settle!: { resolve: (c: StoredClip) => void; reject: (e: unknown) => void };
    const clip = new Promise<StoredClip>((resolve, reject) => (settle = { resolve, reject }));
    clip.catch(() => undefined);

    // The deadline runs from the call, like the whole clip's.
    const scope = jobScope({ signal: opts.signal, timeoutMs: opts.timeoutMs ?? deps.timeoutMs, shutdown: deps.shutdown });
    async function* run(): AsyncGenerator<BackendChunk> {
      let lease: Lease | undefined;
      try {
        lease = await acquire(plan, scope.signal, opts.priority);
        const parts: Uint8Array[] = [];
        let durationMs = 0;
        let codec: BackendChunk["codec"] | undefined;
        for await (const chunk of pool.stream(plan.request, poolOptions(scope.signal, lease, scope.timeoutMs, opts))) {
          codec ??= chunk.codec;
          parts.push(chunk.data);
          durationMs += chunk.durationMs;
          yield chunk;
        }
        if (parts.length === 0 || codec === undefined) throw new NoAudioError();
        // PCM is kept as WAV (the box's samples, bit for bit); AAC as the box's ADTS frames, at
        // the rate the box that made it (the lease followed any failover) put in its frames,
        // else what that box says of itself.
        const pcm = codec.kind === "pcm_s16le" ? codec : undefined;
        const sampleRate = pcm ? pcm.sampleRate : (adtsSampleRate(parts[0] as Uint8Array) ?? (await pool.infoOf(lease.backend))?.sampleRate);
        const meta = await audio.put(
          { id, owner, mimeType: pcm ? "audio/wav" : "audio/aac", durationMs: Math.round(durationMs), ...(sampleRate !== undefined ? { sampleRate } : {}) },
          pcm ? pcmToWav(Buffer.concat(parts), pcm.sampleRate) : Buffer.concat(parts),
        );
        settle.resolve({
          id,
          owner,
          mimeType: meta.mimeType,
          bytes: meta.bytes,
          sampleRate,
          durationMs: Math.round(durationMs),
          chunks: parts.length,
          voice: plan.voice.id,
          mode: plan.mode,
          backend: lease.backend,
          expiresAt: meta.expiresAt,
        });
      } catch (err) {
        const e = scope.explain(err);
        settle.reject(e);
        throw e;
      } finally {
        lease?.release();
        scope.close();
        settle.reject(new CallerGoneError("The stream was closed before its end"));
      }
    }

    let started: AsyncGenerator<BackendChunk> | undefined;
    return {
      id,
      clip,
      signal: scope.signal,
      [Symbol.asyncIterator]() {
        if (started) throw new Error("a synthesis stream can be read once");
        started = run();
        return started;
      },
    };
  }

  return { plan: (input, o) => planSynthesis(input, planDeps, o?.signal), synthesize, stream };
}
