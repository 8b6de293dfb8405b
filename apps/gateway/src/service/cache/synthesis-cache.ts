/**
 * The synthesis cache: finished clips by content key, in an audio store of their own (the disk
 * one, or Redis shared by every instance, each with a TTL and a size cap), and identical jobs in
 * flight shared (see {@link SharedJobs}). A lookup never fails a request: a store that does not
 * answer is a miss, and a failed write is only logged.
 */
import { Readable } from "node:stream";
import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import type { AudioStore } from "../../platform/stores/audio-store.ts";
import type { FlightCodec, RedisFlights } from "./redis-flights.ts";
import { SharedJobs, type JoinedJob, type JobSpec } from "./shared-jobs.ts";

/** A cached clip: what a hit answers with. */
export interface CachedClip {
  mimeType: string;
  /** @unit hertz */
  sampleRate?: number | undefined;
  /** @unit milliseconds */
  durationMs: number;
  chunks: number;
  audio: Uint8Array;
}

/** Options of {@link SynthesisCache}. */
export interface SynthesisCacheOptions {
  /** Where entries live; its TTL and size cap are the cache's. */
  store: AudioStore;
  logger: Logger;
  /** Recent entries also kept in this process, so a hot hit reads no store. 0: none. @default 33_554_432 @unit bytes */
  memoryBytes?: number;
  /** How long an entry lives in memory: the store's TTL, so memory never outlives it. @default 60_000 @unit milliseconds */
  memoryTtlMs?: number;
  /** Identical jobs shared over every instance on one Redis, not only within this process. */
  flights?: RedisFlights;
}

// Stored bytes: "CVC1", chunk count (uint32 BE), then the audio. The store's own metadata keeps
// the type, rate and duration.
const MAGIC = Buffer.from("CVC1");

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}

/**
 * @example
 * const cache = new SynthesisCache({ store: await DiskAudioStore.open(dir, { ttlMs, maxBytes }), logger });
 * const hit = await cache.lookup(key);
 */
export class SynthesisCache {
  private readonly jobs = new SharedJobs<unknown>();
  private readonly logger: Logger;
  private readonly hot: LRUCache<string, CachedClip> | undefined;

  constructor(private readonly opts: SynthesisCacheOptions) {
    this.logger = opts.logger.child({ component: "cache" });
    const maxSize = opts.memoryBytes ?? 32 * 1024 * 1024;
    // Entries are immutable (the key is their content), so a memory copy is never stale; its TTL keeps it within the store's.
    this.hot = maxSize > 0 ? new LRUCache({ maxSize, sizeCalculation: (c) => Math.max(1, c.audio.byteLength), ttl: opts.memoryTtlMs ?? 60_000 }) : undefined;
  }

  /** The clip stored under `key`, or undefined (also when the store fails: logged, counted a miss). */
  async lookup(key: string): Promise<CachedClip | undefined> {
    const warm = this.hot?.get(key);
    if (warm) return warm;
    const id = `a_${key}`;
    try {
      const meta = await this.opts.store.stat(id);
      if (!meta) return undefined;
      const stream = await this.opts.store.read(id);
      if (!stream) return undefined;
      const bytes = await readAll(stream);
      if (bytes.length < 8 || !bytes.subarray(0, 4).equals(MAGIC)) return undefined;
      const clip = { mimeType: meta.mimeType, sampleRate: meta.sampleRate, durationMs: meta.durationMs ?? 0, chunks: bytes.readUInt32BE(4), audio: bytes.subarray(8) };
      this.hot?.set(key, clip, { ttl: Math.max(1, meta.expiresAt - Date.now()) });
      return clip;
    } catch (err) {
      this.logger.warn({ err }, "cache lookup failed; synthesizing");
      return undefined;
    }
  }

  /** Stores a clip under `key`; a failure is logged, never thrown. */
  async save(key: string, clip: CachedClip): Promise<void> {
    this.hot?.set(key, clip);
    const header = Buffer.alloc(8);
    MAGIC.copy(header);
    header.writeUInt32BE(clip.chunks, 4);
    try {
      await this.opts.store.put(
        { id: `a_${key}`, mimeType: clip.mimeType, durationMs: clip.durationMs, ...(clip.sampleRate !== undefined ? { sampleRate: clip.sampleRate } : {}) },
        Buffer.concat([header, clip.audio]),
      );
    } catch (err) {
      this.logger.warn({ err }, "cache write failed");
    }
  }

  /**
   * Joins the job running for `key`, or starts it: identical requests in flight share one job.
   * Items are typed by the caller; keys of whole clips and streams differ (the format is in the key).
   */
  join<T>(key: string, spec: JobSpec<T>, codec?: FlightCodec<T>): JoinedJob<T> {
    const flights = this.opts.flights;
    if (!flights || !codec) return (this.jobs as SharedJobs<T>).join(key, spec);
    return (this.jobs as SharedJobs<T>).join(key, {
      ...spec,
      start: (signal, side) => flights.run(key, (s) => spec.start(s, side), codec, signal, side),
    });
  }

  /** Jobs in flight now. */
  get inFlight(): number {
    return this.jobs.size;
  }

  close(): Promise<void> {
    return this.opts.store.close();
  }
}
