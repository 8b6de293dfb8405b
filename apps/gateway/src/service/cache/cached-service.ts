/**
 * The synthesis service with the cache in front: a planned request with a content key (see
 * `plan.ts`, `key.ts`) is answered from a cached clip without a backend slot, or joins the
 * identical job already running, or runs and fills the cache. Every caller gets a clip of its
 * own (its id, owner and expiry), so nobody learns another caller's audio id. The service itself
 * is unchanged: this wraps it, and takes the plan as the door made it (no voice is resolved here).
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
import type { EncodedAnswers, StoredClip, SynthesisOptions, SynthesisService, SynthesisStream } from "../synthesis/service.ts";
import { formatKey, type SynthesisPlan } from "../plan.ts";
import type { FlightCodec } from "./redis-flights.ts";
import type { CachedClip, SynthesisCache } from "./synthesis-cache.ts";

/** What {@link withCache} needs besides the service. */
export interface CachedServiceDeps {
  cache: SynthesisCache;
  pool: Pick<BackendPool, "backends">;
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
 * const synthesis = withCache(createSynthesisService({ ...deps, keyed: true }), { cache, pool, audio, logger, metrics });
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
  /** The entry's key for one form of the answer, or undefined when the plan has no content key (no box said what it runs yet). */
  function keyFor(plan: SynthesisPlan, format: "wav" | "aac"): Keyed | undefined {
    return plan.cacheKey === undefined ? undefined : { key: formatKey(plan.cacheKey, format), voice: plan.voice.id, mode: plan.mode };
  }

  /** Stores a cached clip as the caller's own clip under `id`. */
  async function own(id: string, owner: string, c: CachedClip, k: Keyed): Promise<StoredClip> {
    const meta = await audio.put({ id, owner, mimeType: c.mimeType, durationMs: c.durationMs, ...(c.sampleRate !== undefined ? { sampleRate: c.sampleRate } : {}) }, c.audio);
    return { id, owner, mimeType: meta.mimeType, bytes: meta.bytes, sampleRate: c.sampleRate, durationMs: c.durationMs, chunks: c.chunks, voice: k.voice, mode: k.mode, backend: "cache", expiresAt: meta.expiresAt };
  }

  async function synthesize(plan: SynthesisPlan, opts: SynthesisOptions = {}): Promise<StoredClip> {
    const owner = plan.caller.owner;
    const k = keyFor(plan, "wav");
    if (!k) {
      metrics.cache("bypass");
      return inner.synthesize(plan, opts);
    }
    const again = await alreadyGiven(owner, k.key);
    if (again) {
      metrics.cache("hit");
      return again;
    }
    const hit = await cache.lookup(k.key);
    if (hit) {
      metrics.cache("hit");
      const clip = await own(newId("a_"), owner, hit, k);
      given.set(givenKey(owner, k.key), clip);
      return clip;
    }
    const job = cache.join<SharedClip>(k.key, {
      start: (signal) =>
        oneItem(
          (async () => {
            const stored = await inner.synthesize(plan, { ...opts, signal });
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
      const clip = job.shared || !stored ? await own(newId("a_"), owner, cached, k) : stored;
      given.set(givenKey(owner, k.key), clip);
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

  function stream(plan: SynthesisPlan, opts: SynthesisOptions = {}): SynthesisStream {
    const owner = plan.caller.owner;
    // The service's own stream, made now for its id; it runs only if this caller leads the job.
    const upstream = new AbortController();
    const mine = inner.stream(plan, { ...opts, signal: upstream.signal });
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
        const k = keyFor(plan, "aac");
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
          const stored = await own(id, owner, hit, k);
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
        settle.resolve(await own(id, owner, { ...streamedAudio(seen, sampleRate), durationMs: Math.round(durationMs), chunks: parts.length }, k));
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

  // A door's whole answer in one format (the MP3 of a /v1 request), beside the clip it came from:
  // a repeated request is answered from these bytes, with no box, slot or encoder.
  const answerKey = (key: string, format: string) => formatKey(key, `answer:${format}`);
  const answers: EncodedAnswers = {
    async get(plan, format) {
      if (plan.cacheKey === undefined) return undefined;
      const hit = await cache.lookup(answerKey(plan.cacheKey, format));
      if (hit) metrics.cache("hit");
      return hit;
    },
    keep(plan, format, answer) {
      if (plan.cacheKey === undefined) return;
      void cache.save(answerKey(plan.cacheKey, format), { ...answer, durationMs: Math.round(answer.durationMs), chunks: 1 });
    },
  };

  return { plan: (input, o) => inner.plan(input, o), synthesize, stream, answers };
}
