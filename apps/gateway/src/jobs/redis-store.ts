/**
 * Jobs in Redis, shared by every gateway instance: `<p><id>` (the record without its plan),
 * `<p><id>:plan` (the segments, written once), `<p><id>:seg` (a hash of finished segments'
 * descriptions by index) and `<p><id>:pcm:<n>` (each finished segment's PCM), plus a sorted set
 * of each owner's jobs by creation time. A finished job's keys expire with it.
 *
 * Record updates are read-modify-write under WATCH on a connection of their own, so a cancel on
 * one instance and a segment finishing on another never overwrite each other.
 */
import type { Redis } from "ioredis";
import { guard } from "../platform/stores/redis-errors.ts";
import { FINISHED, JOB_ID, JobRecordSchema, SegmentDoneSchema, type JobRecord, type SegmentDone } from "./model.ts";
import { page } from "./disk-store.ts";
import type { JobPage, JobPatch, JobStore } from "./store.ts";
import { redisScript } from "../platform/stores/redis-script.ts";

// KEYS: 1 the owner's quota ledger (zset "<id>:<n>" -> time). ARGV: 1 entry, 2 n, 3 limit, 4 window.
// Returns {1} when counted, else {0, ms until room}.
const SPEND = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = 0
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #entries, 2 do used = used + tonumber(string.match(entries[i], ':(%d+)$')) end
local n = tonumber(ARGV[2])
if used + n > tonumber(ARGV[3]) then
  for i = 1, #entries, 2 do
    used = used - tonumber(string.match(entries[i], ':(%d+)$'))
    if used + n <= tonumber(ARGV[3]) then return {0, tonumber(entries[i + 1]) + window - now} end
  end
  return {0, window}
end
redis.call('ZADD', KEYS[1], now, ARGV[1] .. ':' .. ARGV[2])
redis.call('PEXPIRE', KEYS[1], window)
return {1}
`;

/**
 * @example
 * const jobs = new RedisJobStore(redis, "cosyvoice3-gateway:");
 * await jobs.putSegment(job.id, done, pcm);
 */
export class RedisJobStore implements JobStore {
  private readonly p: string;
  /** WATCH holds per connection: record updates get one of their own, one at a time. */
  private readonly writer: Redis;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.p = `${prefix}jobs:`;
    this.writer = redis.duplicate();
    this.writer.on("error", () => undefined);
  }

  private key(id: string, part = ""): string {
    return `${this.p}${id}${part}`;
  }

  async create(job: JobRecord): Promise<void> {
    const { segments, ...rest } = job;
    await guard("job create", () =>
      this.redis
        .multi()
        .set(this.key(job.id, ":plan"), JSON.stringify(segments))
        .set(this.key(job.id), JSON.stringify(rest))
        .zadd(`${this.p}owner:${job.owner}`, job.createdAt, job.id)
        .exec(),
    );
  }

  async get(id: string): Promise<JobRecord | undefined> {
    if (!JOB_ID.test(id)) return undefined;
    const [rec, plan, done] = await guard("job read", () =>
      this.redis.multi().get(this.key(id)).get(this.key(id, ":plan")).hlen(this.key(id, ":seg")).exec(),
    ).then((r) => (r ?? []).map(([, v]) => v) as [string | null, string | null, number]);
    if (rec === null || plan === null) return undefined;
    return JobRecordSchema.parse({ ...(JSON.parse(rec) as object), segments: JSON.parse(plan) as unknown, done });
  }

  update(id: string, patch: JobPatch, opts: { unlessFinished?: boolean } = {}): Promise<JobRecord | undefined> {
    const run = async (): Promise<JobRecord | undefined> => {
      for (;;) {
        await this.writer.watch(this.key(id));
        const raw = await this.writer.get(this.key(id));
        if (raw === null) {
          await this.writer.unwatch();
          return undefined;
        }
        const current = JSON.parse(raw) as JobRecord;
        if (opts.unlessFinished && FINISHED.has(current.status)) {
          await this.writer.unwatch();
          return this.get(id);
        }
        const { segments: _s, done: _d, ...rest } = { ...current, ...patch } as JobRecord;
        const tx = this.writer.multi().set(this.key(id), JSON.stringify(rest));
        if (patch.expiresAt !== undefined) {
          for (const k of [this.key(id), this.key(id, ":plan"), this.key(id, ":seg")]) tx.pexpireat(k, patch.expiresAt);
          const segs = await this.writer.hkeys(this.key(id, ":seg"));
          for (const n of segs) tx.pexpireat(this.key(id, `:pcm:${n}`), patch.expiresAt);
        }
        // Null: the record changed under us (another instance wrote it); read it again.
        if ((await tx.exec()) !== null) return this.get(id);
      }
    };
    const next = this.chain.then(() => guard("job update", run));
    this.chain = next.catch(() => undefined);
    return next;
  }

  async list(owner: string | undefined, opts: { limit: number; cursor?: string }): Promise<JobPage> {
    // Admins list every owner's: the union of the owners' sets.
    const owners = owner !== undefined ? [owner] : (await guard("job list", () => this.redis.keys(`${this.p}owner:*`))).map((k) => k.slice(`${this.p}owner:`.length));
    const ids = (await Promise.all(owners.map((o) => guard("job list", () => this.redis.zrevrange(`${this.p}owner:${o}`, 0, -1))))).flat();
    const records = (await Promise.all(ids.map((id) => this.get(id)))).filter((j): j is JobRecord => j !== undefined);
    const gone = ids.filter((id) => !records.some((r) => r.id === id));
    // Expired jobs leave their id in the owner's set: drop it there.
    if (owner !== undefined && gone.length > 0) await this.redis.zrem(`${this.p}owner:${owner}`, ...gone).catch(() => undefined);
    return page(records.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)), opts);
  }

  async putSegment(id: string, segment: SegmentDone, pcm: Uint8Array): Promise<void> {
    // The PCM first: a description in the hash always has its bytes.
    await guard("job segment", () => this.redis.set(this.key(id, `:pcm:${segment.index}`), Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)));
    await guard("job segment", () => this.redis.hset(this.key(id, ":seg"), String(segment.index), JSON.stringify(segment)));
  }

  async segments(id: string): Promise<SegmentDone[]> {
    if (!JOB_ID.test(id)) return [];
    const all = await guard("job segments", () => this.redis.hvals(this.key(id, ":seg")));
    return all.map((v) => SegmentDoneSchema.parse(JSON.parse(v))).sort((a, b) => a.index - b.index);
  }

  async readSegmentPcm(id: string, index: number): Promise<Uint8Array | undefined> {
    if (!JOB_ID.test(id)) return undefined;
    return (await guard("job segment", () => this.redis.getBuffer(this.key(id, `:pcm:${index}`)))) ?? undefined;
  }

  async delete(id: string): Promise<boolean> {
    if (!JOB_ID.test(id)) return false;
    const rec = await guard("job delete", () => this.redis.get(this.key(id)));
    if (rec === null) return false;
    const owner = (JSON.parse(rec) as { owner: string }).owner;
    const segs = await guard("job delete", () => this.redis.hkeys(this.key(id, ":seg")));
    await guard("job delete", () =>
      this.redis
        .multi()
        .del(this.key(id), this.key(id, ":plan"), this.key(id, ":seg"), ...segs.map((n) => this.key(id, `:pcm:${n}`)))
        .zrem(`${this.p}owner:${owner}`, id)
        .exec(),
    );
    return true;
  }

  /** BullMQ keeps the shared queue (and takes stalled jobs up again): nothing to scan here. */
  async unfinished(): Promise<string[]> {
    return [];
  }

  async spendSegments(owner: string, n: number, limit: number, windowMs: number): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> {
    const spend = redisScript<number[]>(this.redis, "cosyvoiceJobSpend", 1, SPEND);
    const entry = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const [ok, wait] = await guard("job quota", () => spend(`${this.p}quota:${owner}`, entry, n, limit, windowMs));
    return ok === 1 ? { ok: true } : { ok: false, retryAfterMs: Math.max(1_000, wait ?? windowMs) };
  }

  async close(): Promise<void> {
    await this.chain;
    await this.writer.quit().catch(() => this.writer.disconnect());
  }
}
