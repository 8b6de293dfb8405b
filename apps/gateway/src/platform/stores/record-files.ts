/**
 * The disk layout of the voice and consent stores: a JSON list of records (`<dir>/<list>`,
 * rewritten atomically) and one file per record (`<dir>/<files>/<id>.<ext>`). A record's file
 * is written before the list names it and removed after the list forgets it, so a crash leaves
 * at worst a file no record names, never a record without its file; opening sweeps such files
 * and the temp files of writes cut short. Writes run one at a time.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { serialQueue, writeFileAtomic } from "./atomic.ts";

/** Where a kind of record lives under the store's directory. */
export interface RecordLayout<T extends { id: string }> {
  /** The list's file name, e.g. `voices.json`. */
  list: string;
  /** The folder of the records' files, e.g. `audio`. */
  files: string;
  /** Checks the list when it is read back. */
  schema: z.ZodType<T>;
  /** A record's file extension, without the dot. */
  ext(record: T): string;
}

/**
 * @example
 * const files = await RecordFiles.open(dir, { list: "voices.json", files: "audio", schema, ext: (v) => v.audio.ext });
 * await files.add(record, bytes);
 */
export class RecordFiles<T extends { id: string }> {
  private readonly serial = serialQueue();
  private constructor(
    private readonly dir: string,
    private readonly layout: RecordLayout<T>,
    private records: Map<string, T>,
  ) {}

  static async open<T extends { id: string }>(dir: string, layout: RecordLayout<T>): Promise<RecordFiles<T>> {
    let list: T[] = [];
    try {
      list = z.array(layout.schema).parse(JSON.parse(await readFile(join(dir, layout.list), "utf8")));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const store = new RecordFiles(dir, layout, new Map(list.map((r) => [r.id, r])));
    await store.sweep();
    return store;
  }

  /** Removes temp files (`*.tmp`) and files no record names (written, then a crash came before the list did). */
  private async sweep(): Promise<void> {
    const names = async (d: string) => readdir(d).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? [] : Promise.reject(err)));
    const known = new Set([...this.records.values()].map((r) => this.fileName(r)));
    for (const name of await names(this.dir)) if (name.endsWith(".tmp")) await rm(join(this.dir, name), { force: true });
    const files = join(this.dir, this.layout.files);
    for (const name of await names(files)) if (!known.has(name)) await rm(join(files, name), { force: true });
  }

  private fileName(r: T): string {
    return `${r.id}.${this.layout.ext(r)}`;
  }

  private path(r: T): string {
    return join(this.dir, this.layout.files, this.fileName(r));
  }

  private async persist(next: Map<string, T>): Promise<void> {
    await writeFileAtomic(join(this.dir, this.layout.list), JSON.stringify([...next.values()], null, 2));
    this.records = next;
  }

  get(id: string): T | undefined {
    return this.records.get(id);
  }

  values(): T[] {
    return [...this.records.values()];
  }

  /** Saves a new record with its file (the file first). */
  add(record: T, data: Uint8Array): Promise<T> {
    return this.serial(async () => {
      await writeFileAtomic(this.path(record), data);
      await this.persist(new Map(this.records).set(record.id, record));
      return record;
    });
  }

  /** Replaces a record by what `change` makes of it (its file stays); undefined when there is none. */
  update(id: string, change: (record: T) => T): Promise<T | undefined> {
    return this.serial(async () => {
      const old = this.records.get(id);
      if (!old) return undefined;
      const next = change(old);
      await this.persist(new Map(this.records).set(id, next));
      return next;
    });
  }

  /** Forgets a record, then removes its file; false when there was none. */
  remove(id: string): Promise<boolean> {
    return this.serial(async () => {
      const old = this.records.get(id);
      if (!old) return false;
      const next = new Map(this.records);
      next.delete(id);
      await this.persist(next);
      await rm(this.path(old), { force: true });
      return true;
    });
  }

  /** A record's file; undefined when the record or its file is gone. */
  async read(id: string): Promise<Uint8Array | undefined> {
    const r = this.records.get(id);
    if (!r) return undefined;
    try {
      return new Uint8Array(await readFile(this.path(r)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }
}
