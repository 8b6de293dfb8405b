/**
 * Synthesised audio, kept for a while so a frontend can fetch (and seek in) it by id. The
 * interface is what the routes use; {@link DiskAudioStore} is the embedded default.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { z } from "zod";
import { AUDIO_ID } from "../ids.ts";
import { writeFileAtomic } from "./atomic.ts";

export const AudioMetaSchema = z.object({
  id: z.string().regex(AUDIO_ID),
  /** Who made it (an opaque owner id); absent on clips stored before owners existed (anonymous). */
  owner: z.string().min(1).optional(),
  mimeType: z.string(),
  /** @unit bytes */
  bytes: z.number().int(),
  /** @unit hertz */
  sampleRate: z.number().int().optional(),
  /** @unit milliseconds */
  durationMs: z.number().optional(),
  /** @unit milliseconds since the epoch */
  createdAt: z.number(),
  /** @unit milliseconds since the epoch */
  expiresAt: z.number(),
  /** Strong validator: a hash of the bytes, quoted. */
  etag: z.string(),
});
/** What is known about one stored clip. */
export type AudioMeta = z.infer<typeof AudioMetaSchema>;

/** What a caller gives to store a clip (the id is the caller's, so a stream can name it up front). */
export interface NewAudio {
  id: string;
  /** Who made it. */
  owner?: string;
  mimeType: string;
  sampleRate?: number;
  durationMs?: number;
}

/** Where audio clips live. */
export interface AudioStore {
  put(audio: NewAudio, data: Uint8Array): Promise<AudioMeta>;
  /** Undefined when unknown or expired. */
  stat(id: string): Promise<AudioMeta | undefined>;
  /** The bytes from `start` to `end` inclusive (the whole clip without a range). */
  read(id: string, range?: { start: number; end: number }): Promise<Readable | undefined>;
  /** Stops background work. */
  close(): Promise<void>;
}

/** Options of {@link DiskAudioStore.open}. */
export interface DiskAudioStoreOptions {
  /** How long a clip is kept. @unit milliseconds */
  ttlMs: number;
  /** Total size kept; the oldest clips go first beyond it. @unit bytes */
  maxBytes: number;
  /** @default Date.now */
  now?: () => number;
  /** How often expired clips are swept. @default 60_000 @unit milliseconds */
  sweepEveryMs?: number;
}

/**
 * The metadata of a new clip, as every audio store records it: size, times and a strong ETag
 * from the bytes. Refuses an id that is not one of ours (ids become file names and keys).
 * @example const meta = newAudioMeta({ id: newId("a_"), mimeType: "audio/wav" }, bytes, Date.now(), 86_400_000);
 */
export function newAudioMeta(audio: NewAudio, data: Uint8Array, createdAt: number, ttlMs: number): AudioMeta {
  return { ...audioMetaWithoutEtag(audio, data.byteLength, createdAt, ttlMs), etag: audioEtag(data) };
}

/** {@link newAudioMeta} but the ETag, which hashes the bytes (a store may compute it later). */
export function audioMetaWithoutEtag(audio: NewAudio, bytes: number, createdAt: number, ttlMs: number): Omit<AudioMeta, "etag"> {
  if (!AUDIO_ID.test(audio.id)) throw new Error("invalid audio id");
  return { ...audio, bytes, createdAt, expiresAt: createdAt + ttlMs };
}

/** The strong ETag of a clip's bytes, as every audio store gives it. */
export function audioEtag(data: Uint8Array): string {
  return `"${createHash("sha256").update(data).digest("base64url").slice(0, 27)}"`;
}

/**
 * Clips on local disk: `<dir>/<id>.audio` plus `<dir>/<id>.json` (its metadata); a new clip's
 * files are written in place, a stored clip's are replaced atomically (temp file + rename), and
 * puts of one id run one at a time. A clip is in the index only once both are written, and on
 * open a clip whose two files do not match is dropped.
 * @example
 * const audio = await DiskAudioStore.open("/var/lib/gateway/audio", { ttlMs: 86_400_000, maxBytes: 2 ** 29 });
 * await audio.put({ id: newId("a_"), mimeType: "audio/wav" }, wavBytes);
 */
export class DiskAudioStore implements AudioStore {
  private readonly index = new Map<string, AudioMeta>();
  /** The last put of each id still being written (settled either way): see `put`. */
  private readonly putting = new Map<string, Promise<void>>();
  private total = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  private constructor(
    private readonly dir: string,
    private readonly opts: DiskAudioStoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  static async open(dir: string, opts: DiskAudioStoreOptions): Promise<DiskAudioStore> {
    const store = new DiskAudioStore(dir, opts);
    await mkdir(dir, { recursive: true });
    const names = await readdir(dir);
    const described = new Set(names.filter((n) => n.endsWith(".json")).map((n) => n.slice(0, -".json".length)));
    for (const name of names) {
      // Temp files of writes a crash cut short, and bytes whose metadata never landed.
      if (name.endsWith(".tmp") || (name.endsWith(".audio") && !described.has(name.slice(0, -".audio".length)))) {
        await rm(join(dir, name), { force: true });
        continue;
      }
      if (!name.endsWith(".json")) continue;
      try {
        const meta = AudioMetaSchema.parse(JSON.parse(await readFile(join(dir, name), "utf8")));
        // Written without fsync: after a power loss the bytes may be missing or short.
        if ((await stat(join(dir, `${meta.id}.audio`))).size !== meta.bytes) throw new Error("torn clip");
        store.index.set(meta.id, meta);
        store.total += meta.bytes;
      } catch {
        await rm(join(dir, name), { force: true });
        await rm(join(dir, `${name.slice(0, -".json".length)}.audio`), { force: true });
      }
    }
    // readdir order is no order: rebuild the index oldest first, as puts keep it.
    const loaded = [...store.index.values()].sort((a, b) => a.createdAt - b.createdAt);
    store.index.clear();
    for (const meta of loaded) store.index.set(meta.id, meta);
    await store.sweep();
    store.timer = setInterval(() => void store.sweep().catch(() => undefined), opts.sweepEveryMs ?? 60_000);
    store.timer.unref();
    return store;
  }

  private async remove(id: string): Promise<void> {
    const meta = this.index.get(id);
    if (!meta) return;
    this.index.delete(id);
    this.total -= meta.bytes;
    await rm(join(this.dir, `${id}.json`), { force: true });
    await rm(join(this.dir, `${id}.audio`), { force: true });
  }

  /** Drops expired clips, then the oldest ones while the total is over the cap (never `keep`). */
  async sweep(keep?: string): Promise<void> {
    const now = this.now();
    for (const meta of [...this.index.values()]) if (meta.expiresAt <= now) await this.remove(meta.id);
    await this.evictOverCap(keep);
  }

  /**
   * The oldest clips go while the total is over the cap (never `keep`). The index is in creation
   * order (a re-put moves its id to the end), so this walks from the front: no scan, no sort.
   */
  private async evictOverCap(keep?: string): Promise<void> {
    if (this.total <= this.opts.maxBytes) return;
    for (const id of [...this.index.keys()]) {
      if (this.total <= this.opts.maxBytes) break;
      if (id !== keep) await this.remove(id);
    }
  }

  /**
   * Puts of one id run one after another: two at once would each write both files, and the
   * clip left on disk could take its bytes from one and its metadata from the other (which
   * `open` then drops as torn). The later put replaces the earlier one whole.
   */
  put(audio: NewAudio, data: Uint8Array): Promise<AudioMeta> {
    const before = this.putting.get(audio.id);
    const run = before ? before.then(() => this.putNow(audio, data)) : this.putNow(audio, data);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.putting.set(audio.id, settled);
    void settled.then(() => {
      if (this.putting.get(audio.id) === settled) this.putting.delete(audio.id);
    });
    return run;
  }

  private async putNow(audio: NewAudio, data: Uint8Array): Promise<AudioMeta> {
    const meta = newAudioMeta(audio, data, this.now(), this.opts.ttlMs);
    // Clips are a TTL cache: no fsync on the request path (it was about half of the gateway's
    // added latency per synthesis), and both files at once; `open` drops a clip whose files do
    // not match. Expired clips are left to the sweep timer (`stat` already hides them).
    // A new id (every clip but a cache's re-put) is written in place: no reader can reach it
    // before the index has it, which is after both writes, and `open` drops a clip whose two files
    // do not match, so the temp file and rename (two more file operations, about a tenth of the
    // write's cost here) buy nothing. An id already stored, or one whose file is there already
    // (left by a put that failed half-way), is replaced atomically, as readers may be streaming it.
    const opts = { durable: false, dirExists: true };
    const write = async (path: string, bytes: Uint8Array | string) => {
      if (!this.index.has(audio.id)) {
        try {
          await writeFile(path, bytes, { flag: "wx", mode: 0o600 });
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
            await rm(path, { force: true });
            throw err;
          }
        }
      }
      await writeFileAtomic(path, bytes, opts);
    };
    await Promise.all([write(join(this.dir, `${audio.id}.audio`), data), write(join(this.dir, `${audio.id}.json`), JSON.stringify(meta))]);
    const previous = this.index.get(audio.id);
    if (previous) {
      this.total -= previous.bytes;
      this.index.delete(audio.id);
    }
    this.index.set(meta.id, meta);
    this.total += meta.bytes;
    await this.evictOverCap(meta.id);
    return meta;
  }

  async stat(id: string): Promise<AudioMeta | undefined> {
    const meta = this.index.get(id);
    if (!meta || meta.expiresAt <= this.now()) return undefined;
    return meta;
  }

  async read(id: string, range?: { start: number; end: number }): Promise<Readable | undefined> {
    if (!(await this.stat(id))) return undefined;
    return createReadStream(join(this.dir, `${id}.audio`), range ? { start: range.start, end: range.end } : {});
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }
}
