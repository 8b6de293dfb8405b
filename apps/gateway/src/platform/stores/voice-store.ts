/**
 * Saved (cloned) voices: the prompt audio plus its name and transcript. The interface is what
 * the routes use; {@link DiskVoiceStore} is the embedded default.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { SAVED_VOICE_ID, newId } from "../ids.ts";
import { serialQueue, writeFileAtomic } from "./atomic.ts";

export const SavedVoiceRecordSchema = z.object({
  id: z.string().regex(SAVED_VOICE_ID),
  /** Who saved it (an opaque owner id); absent on voices saved before owners existed (anonymous). */
  owner: z.string().min(1).optional(),
  name: z.string(),
  promptText: z.string().optional(),
  createdAt: z.string(),
  audio: z.object({
    mimeType: z.string(),
    ext: z.string().regex(/^[a-z0-9]{1,5}$/),
    bytes: z.number().int(),
    sampleRate: z.number().int(),
    durationMs: z.number(),
  }),
});
/** One saved voice as stored. */
export type SavedVoiceRecord = z.infer<typeof SavedVoiceRecordSchema>;

/** A new voice: everything but the id and creation time, plus the audio bytes. */
export interface NewVoice {
  /** Who saves it. */
  owner: string;
  name: string;
  promptText?: string;
  audio: SavedVoiceRecord["audio"];
  data: Uint8Array;
}

/** Where saved voices live. */
export interface VoiceStore {
  list(): Promise<SavedVoiceRecord[]>;
  get(id: string): Promise<SavedVoiceRecord | undefined>;
  create(voice: NewVoice): Promise<SavedVoiceRecord>;
  /** The prompt audio bytes; undefined when the voice is gone. */
  readAudio(id: string): Promise<Uint8Array | undefined>;
  /** True when a voice was deleted. */
  delete(id: string): Promise<boolean>;
}

/**
 * Voices on local disk: `<dir>/voices.json` (the registry, rewritten atomically) and
 * `<dir>/audio/<id>.<ext>` (prompt audio, written before the registry names it). Opening sweeps
 * what a crash left: temp files and audio no registry entry names.
 * @example
 * const voices = await DiskVoiceStore.open("/var/lib/gateway/voices", () => Date.now());
 * const v = await voices.create({ name: "Ann", promptText: "Hello.", audio, data });
 */
export class DiskVoiceStore implements VoiceStore {
  private readonly serial = serialQueue();
  private constructor(
    private readonly dir: string,
    private readonly now: () => number,
    private voices: Map<string, SavedVoiceRecord>,
  ) {}

  static async open(dir: string, now: () => number = Date.now): Promise<DiskVoiceStore> {
    let list: SavedVoiceRecord[] = [];
    try {
      list = z.array(SavedVoiceRecordSchema).parse(JSON.parse(await readFile(join(dir, "voices.json"), "utf8")));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const store = new DiskVoiceStore(dir, now, new Map(list.map((v) => [v.id, v])));
    await store.sweep();
    return store;
  }

  /**
   * Removes what a crash can leave behind: temp files of writes cut short (`*.tmp`, in the
   * directory and under `audio/`), and prompt audio the registry never named (written, then the
   * crash came before the registry; such a voice was never acknowledged) or no longer names.
   */
  private async sweep(): Promise<void> {
    const names = async (d: string) => readdir(d).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? [] : Promise.reject(err)));
    const known = new Set([...this.voices.values()].map((v) => `${v.id}.${v.audio.ext}`));
    for (const name of await names(this.dir)) if (name.endsWith(".tmp")) await rm(join(this.dir, name), { force: true });
    for (const name of await names(join(this.dir, "audio"))) {
      if (name.endsWith(".tmp") || !known.has(name)) await rm(join(this.dir, "audio", name), { force: true });
    }
  }

  private audioPath(v: SavedVoiceRecord): string {
    return join(this.dir, "audio", `${v.id}.${v.audio.ext}`);
  }

  private async persist(next: Map<string, SavedVoiceRecord>): Promise<void> {
    await writeFileAtomic(join(this.dir, "voices.json"), JSON.stringify([...next.values()], null, 2));
    this.voices = next;
  }

  async list(): Promise<SavedVoiceRecord[]> {
    return [...this.voices.values()];
  }

  async get(id: string): Promise<SavedVoiceRecord | undefined> {
    return this.voices.get(id);
  }

  create(voice: NewVoice): Promise<SavedVoiceRecord> {
    return this.serial(async () => {
      const record: SavedVoiceRecord = {
        id: newId("v_"),
        owner: voice.owner,
        name: voice.name,
        ...(voice.promptText !== undefined ? { promptText: voice.promptText } : {}),
        createdAt: new Date(this.now()).toISOString(),
        audio: voice.audio,
      };
      await writeFileAtomic(this.audioPath(record), voice.data);
      await this.persist(new Map(this.voices).set(record.id, record));
      return record;
    });
  }

  async readAudio(id: string): Promise<Uint8Array | undefined> {
    const v = this.voices.get(id);
    if (!v) return undefined;
    try {
      return new Uint8Array(await readFile(this.audioPath(v)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  delete(id: string): Promise<boolean> {
    return this.serial(async () => {
      const v = this.voices.get(id);
      if (!v) return false;
      const next = new Map(this.voices);
      next.delete(id);
      // Registry first: a crash between the two steps leaves an orphan file, never a dangling entry.
      await this.persist(next);
      await rm(this.audioPath(v), { force: true });
      return true;
    });
  }
}
