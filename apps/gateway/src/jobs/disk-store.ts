/**
 * Jobs on local disk (the embedded default): `<dir>/<id>/plan.json` (the segments, written once),
 * `<dir>/<id>/job.json` (the rest of the record), and per finished segment
 * `seg-<n>.pcm` then `seg-<n>.json`, each written atomically and fsynced before the write is
 * answered, so what a SIGKILL leaves behind is the job as of its last finished segment. The
 * records are indexed in memory at open; finished jobs past their expiry are swept.
 */
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../platform/stores/atomic.ts";
import { FINISHED, JOB_ID, JobRecordSchema, SegmentDoneSchema, type JobRecord, type SegmentDone } from "./model.ts";
import type { JobPage, JobPatch, JobStore } from "./store.ts";

/** Options of {@link DiskJobStore.open}. */
export interface DiskJobStoreOptions {
  /** @default Date.now */
  now?: () => number;
  /** How often expired jobs are swept. @default 60_000 @unit milliseconds */
  sweepEveryMs?: number;
}

/**
 * @example
 * const jobs = await DiskJobStore.open(join(config.dataDir, "jobs"));
 * await jobs.putSegment(job.id, done, pcm);
 */
export class DiskJobStore implements JobStore {
  private readonly index = new Map<string, JobRecord>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  private constructor(
    private readonly dir: string,
    opts: DiskJobStoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  static async open(dir: string, opts: DiskJobStoreOptions = {}): Promise<DiskJobStore> {
    const store = new DiskJobStore(dir, opts);
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) {
      if (!JOB_ID.test(name)) continue;
      try {
        const plan = JSON.parse(await readFile(join(dir, name, "plan.json"), "utf8")) as unknown;
        const record = JobRecordSchema.parse({ ...(JSON.parse(await readFile(join(dir, name, "job.json"), "utf8")) as object), segments: plan });
        // `done` is what the segments on disk say (a kill between the two writes loses nothing).
        record.done = (await store.segments(name)).length;
        store.index.set(name, record);
      } catch {
        // A job whose record never landed (killed while being created) was never answered 202.
        await rm(join(dir, name), { recursive: true, force: true });
      }
    }
    store.timer = setInterval(() => void store.sweep(), opts.sweepEveryMs ?? 60_000);
    store.timer.unref();
    return store;
  }

  /** Runs `task` after the job's earlier writes (one writer per job at a time). */
  private serial<T>(id: string, task: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const next = prev.then(task, task);
    const settled = next.catch(() => undefined);
    this.locks.set(id, settled);
    void settled.then(() => {
      if (this.locks.get(id) === settled) this.locks.delete(id);
    });
    return next;
  }

  /** The record without its plan (written once, at create). */
  private async save(record: JobRecord): Promise<void> {
    const { segments: _plan, ...rest } = record;
    await writeFileAtomic(join(this.dir, record.id, "job.json"), JSON.stringify(rest));
  }

  async create(job: JobRecord): Promise<void> {
    await this.serial(job.id, async () => {
      await writeFileAtomic(join(this.dir, job.id, "plan.json"), JSON.stringify(job.segments));
      await this.save(job);
    });
    this.index.set(job.id, job);
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const r = JOB_ID.test(id) ? this.index.get(id) : undefined;
    return r && structuredClone(r);
  }

  update(id: string, patch: JobPatch, opts: { unlessFinished?: boolean } = {}): Promise<JobRecord | undefined> {
    return this.serial(id, async () => {
      const current = this.index.get(id);
      if (!current) return undefined;
      if (opts.unlessFinished && FINISHED.has(current.status)) return structuredClone(current);
      const next = { ...current, ...patch };
      await this.save(next);
      this.index.set(id, next);
      return structuredClone(next);
    });
  }

  async list(owner: string | undefined, opts: { limit: number; cursor?: string }): Promise<JobPage> {
    const all = [...this.index.values()]
      .filter((j) => owner === undefined || j.owner === owner)
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
    return page(all, opts);
  }

  putSegment(id: string, segment: SegmentDone, pcm: Uint8Array): Promise<void> {
    return this.serial(id, async () => {
      const current = this.index.get(id);
      if (!current) return;
      // The PCM first: a description on disk always has its bytes.
      await writeFileAtomic(join(this.dir, id, `seg-${segment.index}.pcm`), pcm, { dirExists: true });
      await writeFileAtomic(join(this.dir, id, `seg-${segment.index}.json`), JSON.stringify(segment), { dirExists: true });
      const done = (await this.segments(id)).length;
      const next = { ...current, done };
      await this.save(next);
      this.index.set(id, next);
    });
  }

  async segments(id: string): Promise<SegmentDone[]> {
    if (!JOB_ID.test(id)) return [];
    let names: string[];
    try {
      names = await readdir(join(this.dir, id));
    } catch {
      return [];
    }
    const out: SegmentDone[] = [];
    for (const name of names) {
      if (!/^seg-\d+\.json$/.test(name)) continue;
      try {
        out.push(SegmentDoneSchema.parse(JSON.parse(await readFile(join(this.dir, id, name), "utf8"))));
      } catch {
        // A torn description is a segment not finished: it is made again.
      }
    }
    return out.sort((a, b) => a.index - b.index);
  }

  async readSegmentPcm(id: string, index: number): Promise<Uint8Array | undefined> {
    if (!JOB_ID.test(id)) return undefined;
    try {
      return await readFile(join(this.dir, id, `seg-${index}.pcm`));
    } catch {
      return undefined;
    }
  }

  delete(id: string): Promise<boolean> {
    if (!JOB_ID.test(id)) return Promise.resolve(false);
    return this.serial(id, async () => {
      const had = this.index.delete(id);
      await rm(join(this.dir, id), { recursive: true, force: true });
      return had;
    });
  }

  async unfinished(): Promise<string[]> {
    return [...this.index.values()].filter((j) => !FINISHED.has(j.status)).sort((a, b) => a.createdAt - b.createdAt).map((j) => j.id);
  }

  async spendSegments(owner: string, n: number, limit: number, windowMs: number): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> {
    // The jobs themselves are the ledger: the segments of the owner's jobs made in the window.
    const since = this.now() - windowMs;
    const recent = [...this.index.values()].filter((j) => j.owner === owner && j.createdAt > since).sort((a, b) => a.createdAt - b.createdAt);
    let used = recent.reduce((sum, j) => sum + j.segments.length, 0);
    if (used + n <= limit) return { ok: true };
    // Room comes back as the oldest jobs leave the window.
    for (const j of recent) {
      used -= j.segments.length;
      if (used + n <= limit) return { ok: false, retryAfterMs: Math.max(1_000, j.createdAt + windowMs - this.now()) };
    }
    return { ok: false, retryAfterMs: windowMs };
  }

  private async sweep(): Promise<void> {
    const now = this.now();
    for (const j of [...this.index.values()]) if (j.expiresAt !== undefined && j.expiresAt <= now) await this.delete(j.id);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.locks.values()]);
  }
}

/**
 * One page of a list sorted newest first; the cursor is the last job's id.
 * @example page(jobs, { limit: 20 })
 */
export function page(all: JobRecord[], opts: { limit: number; cursor?: string }): JobPage {
  let start = 0;
  if (opts.cursor !== undefined) {
    const at = all.findIndex((j) => j.id === opts.cursor);
    start = at < 0 ? all.length : at + 1;
  }
  const jobs = all.slice(start, start + opts.limit);
  const more = start + opts.limit < all.length;
  return { jobs, ...(more && jobs.length > 0 ? { next: (jobs.at(-1) as JobRecord).id } : {}) };
}
