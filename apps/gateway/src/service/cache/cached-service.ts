/**
 * The synthesis service with the cache in front: a deterministic request (see `key.ts`) is
 * answered from a cached clip without a backend slot, or joins the identical job already
 * running, or runs and fills the cache. Every caller gets a clip of its own (its id, owner and
 * expiry), so nobody learns another caller's audio id. The service itself is unchanged: this
 * wraps it.
 */
import { trace } from "@opentelemetry/api";
import type { BackendChunk } from "../../backends/port.ts";
import { pcmToWav, WAV_HEADER_BYTES } from "../encode/wav.ts";
import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import { CallerGoneError } from "../errors.ts";
import { newId } from "../../platform/ids.ts";
import type { GatewayMetrics } from "../../platform/metrics/index.ts";
import type { BackendPool } from "../../backends/pool/index.ts";
import type { AudioStore } from "../../platform/stores/audio-store.ts";
import type { VoiceStore } from "../../platform/stores/voice-store.ts";
import type { StoredClip, SynthesisInput, SynthesisOptions, SynthesisService, SynthesisStream } from "../synthesis/service.ts";
import { BUILTIN_PREFIX } from "../../platform/ids.ts";
import { resolveVoice, toSdkRequest, type ResolvedVoice, type VoiceSources } from "../voices.ts";
import { cacheKey, PromptHashes } from "./key.ts";
import type { FlightCodec } from "./redis-flights.ts";
import type { CachedClip, SynthesisCache } from "./synthesis-cache.ts";

/** What {@link withCache} needs besides the service. */
export interface CachedServiceDeps {
  cache: SynthesisCache;
  pool: Pick<BackendPool, "backends" | "listVoices" | "info">;
  voices: VoiceStore;
  audio: AudioStore;
  logger: Logger;
  metrics?: GatewayMetrics;
}

interface Keyed {
  key: string;
  voice: string;
  mode: StoredClip["mode"];
}

/** A whole clip as a shared job hands it over: the first caller's stored clip (not when another instance made it) and its bytes. */
interface SharedClip {
  stored?: StoredClip;
  cached: CachedClip;
}

/** Bytes of a JSON header (its length first) and a body: how a job's items cross Redis. */
function frame(head: unknown, body: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(head));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length);
  return Buffer.concat([len, json, body]);
}
function unframe<H>(bytes: Buffer): { head: H; body: Buffer } {
  const n = bytes.readUInt32BE(0);
  return { head: JSON.parse(bytes.subarray(4, 4 + n).toString()) as H, body: bytes.subarray(4 + n) };
}

/** A whole clip over Redis: only the bytes travel; the follower stores its own clip. */
const clipCodec: FlightCodec<SharedClip> = {
  encode: ({ cached: { audio, ...meta } }) => frame(meta, audio),
  decode: (bytes) => {
    const { head, body } = unframe<Omit<CachedClip, "audio">>(bytes);
    return { cached: { ...head, audio: body } };
  },
};

/** A streamed chunk over Redis. */
const chunkCodec: FlightCodec<BackendChunk> = {
  encode: ({ data, ...meta }) => frame(meta, data),
  decode: (bytes) => {
    const { head, body } = unframe<Omit<BackendChunk, "data">>(bytes);
    return { ...head, data: body };
  },
};

async function* oneItem<T>(p: Promise<T>): AsyncGenerator<T> {
  yield await p;
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}

/**
 * @example
 * const synthesis = withCache(createSynthesisService(deps), { cache, pool, voices, audio, logger, metrics });
 */
export function withCache(inner: SynthesisService, deps: CachedServiceDeps): SynthesisService {
  const { cache, audio } = deps;
  // Counted, and noted on the active (synthesis) span when tracing is on.
  const metrics = {
    cache(result: "hit" | "shared" | "miss" | "bypass") {
      deps.metrics?.cache(result);
      trace.getActiveSpan()?.setAttribute("cache.result", result);
    },
  };
  const hashes = new PromptHashes();
  // The clip each owner last got for a content key: asked again, the owner gets that clip back
  // (it is the same audio) instead of a copy, so a repeated hit writes nothing.
  const given = new LRUCache<string, StoredClip>({ max: 10_000 });
  const givenKey = (owner: string, key: string) => `${owner}\n${key}`;
  /** The owner's clip for this key, while it exists with at least a minute to live. */
  async function alreadyGiven(owner: string, key: string): Promise<StoredClip | undefined> {
    const clip = given.get(givenKey(owner, key));
    if (!clip || clip.expiresAt - Date.now() < 60_000) return undefined;
    const meta = await audio.stat(clip.id).catch(() => undefined);
    return meta && meta.owner === owner ? clip : undefined;
  }
  const sources: VoiceSources = { voices: deps.voices, speakers: () => deps.pool.listVoices() };

  /** The content key, or undefined when the request is not cacheable now (its error, if any, is the service's to give). */
  async function keyFor(input: SynthesisInput, format: "wav" | "aac", signal: AbortSignal | undefined): Promise<Keyed | undefined> {
    // What the boxes run, as last seen (a box that went down since is still what it was); before
    // any box is known, the first one that answers says (the job would ask it anyway). None: no
    // caching, and the service gives the real error.
    const seen = deps.pool.backends().find((b) => b.model !== undefined && b.variant !== undefined);
    const backend = seen?.model && seen.variant ? { model: seen.model, variant: seen.variant } : await deps.pool.info().catch(() => undefined);
    if (!backend) return undefined;
    try {
      // A built-in speaker is its name: an entry exists only if a box had it, and a hit then
      // needs no box to list its speakers (all of them may be down).
      const voice: ResolvedVoice = input.voice.startsWith(BUILTIN_PREFIX)
        ? { kind: "builtin", id: input.voice, name: input.voice.slice(BUILTIN_PREFIX.length) }
        : await resolveVoice(input.voice, input, sources, signal);
      const { mode, request } = toSdkRequest(input, voice);
      const key = cacheKey({
        model: backend.model,
        variant: backend.variant,
        mode,
        text: request.text,
        // The SDK sends 0 without a seed, so no seed and seed 0 are the same request.
        seed: request.seed ?? 0,
        speed: request.speed,
        format,
        instruct: "instruct" in request ? request.instruct : undefined,
        ...(voice.kind === "builtin" ? { speaker: voice.name } : { promptAudioSha256: hashes.of(voice.id, voice.audio), promptText: voice.record.promptText }),
      });
      return { key, voice: voice.id, mode };
    } catch {
      return undefined;
    }
  }

  /** Stores a cached clip as the caller's own clip under `id`. */
  async function own(id: string, owner: string, c: CachedClip, k: Keyed): Promise<StoredClip> {
    const meta = await audio.put({ id, owner, mimeType: c.mimeType, durationMs: c.durationMs, ...(c.sampleRate !== undefined ? { sampleRate: c.sampleRate } : {}) }, c.audio);
    return { id, owner, mimeType: meta.mimeType, bytes: meta.bytes, sampleRate: c.sampleRate, durationMs: c.durationMs, chunks: c.chunks, voice: k.voice, mode: k.mode, backend: "cache", expiresAt: meta.expiresAt };
  }

  async function synthesize(input: SynthesisInput, opts: SynthesisOptions = {}): Promise<StoredClip> {
    const k = await keyFor(input, "wav", opts.signal);
    if (!k) {
      metrics.cache("bypass");
      return inner.synthesize(input, opts);
    }
    const again = await alreadyGiven(input.owner, k.key);
    if (again) {
      metrics.cache("hit");
      return again;
    }
    const hit = await cache.lookup(k.key);
    if (hit) {
      metrics.cache("hit");
      const clip = await own(newId("a_"), input.owner, hit, k);
      given.set(givenKey(input.owner, k.key), clip);
      return clip;
    }
    const job = cache.join<SharedClip>(k.key, {
      start: (signal) =>
        oneItem(
          (async () => {
            const stored = await inner.synthesize(input, { ...opts, signal });
            const bytes = await audio.read(stored.id);
            if (!bytes) throw new Error("the clip just stored cannot be read");
            const cached: CachedClip = { mimeType: stored.mimeType, sampleRate: stored.sampleRate, durationMs: stored.durationMs, chunks: stored.chunks, audio: await readAll(bytes) };
            // Stored before anyone is answered (about a millisecond): an answer means the next identical request hits, on any instance.
            await cache.save(k.key, cached);
            return { stored, cached };
          })(),
        ),
    }, clipCodec);
    metrics.cache(job.shared ? "shared" : "miss");
    for await (const { stored, cached } of job.follow(opts.signal)) {
      // The caller that started the job has its clip; every other (here or on another instance) gets one of its own.
      const clip = job.shared || !stored ? await own(newId("a_"), input.owner, cached, k) : stored;
      given.set(givenKey(input.owner, k.key), clip);
      return clip;
    }
    throw new Error("unreachable: a shared job ended without its clip");
  }

  /** A stream's chunks as one stored body: WAV around a PCM box's samples, else the ADTS frames. */
  function streamedAudio(chunks: readonly BackendChunk[], sampleRate: number | undefined): { mimeType: string; sampleRate: number | undefined; audio: Buffer } {
    const codec = chunks[0]?.codec;
    const audio = Buffer.concat(chunks.map((c) => c.data));
    if (codec?.kind === "pcm_s16le") return { mimeType: "audio/wav", sampleRate: codec.sampleRate, audio: pcmToWav(audio, codec.sampleRate) };
    return { mimeType: "audio/aac", sampleRate, audio };
  }

  function stream(input: SynthesisInput, opts: SynthesisOptions = {}): SynthesisStream {
    // The service's own stream, made now for its id; it runs only if this caller leads the job.
    const upstream = new AbortController();
    const mine = inner.stream(input, { ...opts, signal: upstream.signal });
    const { id } = mine;
    let settle!: { resolve: (c: StoredClip) => void; reject: (e: unknown) => void };
    const clip = new Promise<StoredClip>((resolve, reject) => (settle = { resolve, reject }));
    clip.catch(() => undefined);
    const over = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, over.signal]) : over.signal;
    const unused = () => upstream.abort(new CallerGoneError("Answered without this job"));

    // Set once `mine` is handed to a reader; until then (a hit, a shared job, a failed lookup)
    // it never runs, and the finally below lets its scope go.
    let handedOut = false;
    const follow = () => upstream.abort(opts.signal?.reason);
    async function* run(): AsyncGenerator<BackendChunk> {
      try {
        const k = await keyFor(input, "aac", opts.signal);
        if (!k) {
          metrics.cache("bypass");
          opts.signal?.addEventListener("abort", follow, { once: true });
          if (opts.signal?.aborted) follow();
          handedOut = true;
          yield* mine;
          settle.resolve(await mine.clip);
          return;
        }
        const hit = await cache.lookup(k.key);
        if (hit) {
          metrics.cache("hit");
          unused();
          const stored = await own(id, input.owner, hit, k);
          // A PCM box's stream is kept as WAV: its samples go out again as PCM.
          yield hit.mimeType === "audio/wav" && hit.sampleRate !== undefined
            ? { index: 0, data: hit.audio.subarray(WAV_HEADER_BYTES), codec: { kind: "pcm_s16le", sampleRate: hit.sampleRate, channels: 1 }, durationMs: hit.durationMs }
            : { index: 0, data: hit.audio, codec: { kind: "adts" }, durationMs: hit.durationMs };
          settle.resolve(stored);
          return;
        }
        const job = cache.join<BackendChunk>(k.key, {
          start: (jobSignal) => {
            jobSignal.addEventListener("abort", () => upstream.abort(jobSignal.reason), { once: true });
            handedOut = true;
            return mine;
          },
          onDone: async (chunks) => {
            const stored = await mine.clip.catch(() => undefined);
            if (stored) await cache.save(k.key, { ...streamedAudio(chunks, stored.sampleRate), durationMs: stored.durationMs, chunks: chunks.length });
          },
        }, chunkCodec);
        metrics.cache(job.shared ? "shared" : "miss");
        if (job.shared) unused();
        const parts: Uint8Array[] = [];
        const seen: BackendChunk[] = [];
        let durationMs = 0;
        for await (const chunk of job.follow(opts.signal)) {
          seen.push(chunk);
          parts.push(chunk.data);
          durationMs += chunk.durationMs;
          yield chunk;
        }
        // Another instance ran it: this stream's own job never started.
        if (job.remote) unused();
        if (!job.shared && !job.remote) {
          settle.resolve(await mine.clip);
          return;
        }
        const sampleRate = deps.pool.backends().find((b) => b.sampleRate !== undefined)?.sampleRate;
        settle.resolve(await own(id, input.owner, { ...streamedAudio(seen, sampleRate), durationMs: Math.round(durationMs), chunks: parts.length }, k));
      } catch (err) {
        settle.reject(err);
        throw err;
      } finally {
        opts.signal?.removeEventListener("abort", follow);
        if (!handedOut) unused();
        over.abort(new CallerGoneError("The stream is over"));
        settle.reject(new CallerGoneError("The stream was closed before its end"));
      }
    }

    let started: AsyncGenerator<BackendChunk> | undefined;
    return {
      id,
      clip,
      signal,
      [Symbol.asyncIterator]() {
        if (started) throw new Error("a synthesis stream can be read once");
        started = run();
        return started;
      },
    };
  }

  return { synthesize, stream };
}
