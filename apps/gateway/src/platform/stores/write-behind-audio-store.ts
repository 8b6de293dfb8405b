/**
 * An audio store that answers a `put` before its write lands: the clip is served from memory
 * until the inner store has it, so a client that fetches it at once gets it either way. Bounded:
 * beyond `maxPendingBytes` of clips not yet written, a `put` waits for its write as usual. For
 * the disk store of one instance (another instance could not see a clip still in memory).
 */
import { Readable } from "node:stream";
import type { Logger } from "pino";
import { audioEtag, audioMetaWithoutEtag, type AudioMeta, type AudioStore, type NewAudio } from "./audio-store.ts";

/** Options of {@link WriteBehindAudioStore}. */
export interface WriteBehindOptions {
  /** The clips' TTL, as the inner store has it (the metadata answered at once carries it). @unit milliseconds */
  ttlMs: number;
  /** Clips not yet written, at most. @default 16_777_216 @unit bytes */
  maxPendingBytes?: number;
  logger: Logger;
  /** @default Date.now */
  now?: () => number;
}

/**
 * The clip's metadata with its ETag (a SHA-256 of the bytes, about 0.2 ms for a few hundred KB)
 * computed when first read, not on the request path; the inner store computes the same one.
 */
function lazyEtag(audio: NewAudio, data: Uint8Array, createdAt: number, ttlMs: number): AudioMeta {
  let etag: string | undefined;
  return Object.defineProperty(audioMetaWithoutEtag(audio, data.byteLength, createdAt, ttlMs) as AudioMeta, "etag", {
    enumerable: true,
    get: () => (etag ??= audioEtag(data)),
  });
}

interface Pending {
  meta: AudioMeta;
  data: Uint8Array;
  written: Promise<void>;
}

/**
 * @example const audio = new WriteBehindAudioStore(await DiskAudioStore.open(dir, opts), { ttlMs: opts.ttlMs, logger });
 */
export class WriteBehindAudioStore implements AudioStore {
  private readonly pending = new Map<string, Pending>();
  private pendingBytes = 0;
  private readonly max: number;
  private readonly now: () => number;

  constructor(
    private readonly inner: AudioStore,
    private readonly opts: WriteBehindOptions,
  ) {
    this.max = opts.maxPendingBytes ?? 16 * 1024 * 1024;
    this.now = opts.now ?? Date.now;
  }

  /** Bytes answered but not yet written. */
  get backlog(): number {
    return this.pendingBytes;
  }

  async put(audio: NewAudio, data: Uint8Array): Promise<AudioMeta> {
    if (this.pendingBytes + data.byteLength > this.max) return this.inner.put(audio, data);
    const meta = lazyEtag(audio, data, this.now(), this.opts.ttlMs);
    const entry: Pending = {
      meta,
      data,
      // The write starts on the next turn of the event loop, after the answer went out: its
      // synchronous part (the ETag's hash, opening the temp file) is not the caller's wait.
      written: new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.inner.put(audio, data)).then(
        () => undefined,
        (err: unknown) => this.opts.logger.error({ err, id: audio.id }, "clip write failed after it was answered; it is gone once out of memory"),
      ),
    };
    this.pending.set(audio.id, entry);
    this.pendingBytes += data.byteLength;
    void entry.written.finally(() => {
      if (this.pending.get(audio.id) === entry) this.pending.delete(audio.id);
      this.pendingBytes -= data.byteLength;
    });
    return meta;
  }

  async stat(id: string): Promise<AudioMeta | undefined> {
    const p = this.pending.get(id);
    if (p) return p.meta.expiresAt > this.now() ? p.meta : undefined;
    return this.inner.stat(id);
  }

  async read(id: string, range?: { start: number; end: number }): Promise<Readable | undefined> {
    const p = this.pending.get(id);
    if (!p) return this.inner.read(id, range);
    if (p.meta.expiresAt <= this.now()) return undefined;
    const bytes = range ? p.data.subarray(range.start, range.end + 1) : p.data;
    return Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]);
  }

  /** Waits for every write still in flight, then closes the inner store. */
  async close(): Promise<void> {
    await Promise.all([...this.pending.values()].map((p) => p.written));
    await this.inner.close();
  }
}
