/**
 * One backend's job slots held in Redis, so its cap (`concurrency` running + `queueSize`
 * waiting) holds across every gateway instance. Each slot and each place in line is a lease
 * with an expiry on the Redis clock: the instance holding it renews it every `leaseTtlMs / 3`,
 * so an instance that crashes frees its slots within `leaseTtlMs` by itself. The line is first
 * come, first served across instances; a released slot is announced on a channel so a waiter on
 * another instance takes it at once (a poll every `pollMs` catches expiries).
 *
 * The scripts build no key names, so they run on one Redis or a primary (not Cluster).
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { guard } from "../../platform/stores/redis-errors.ts";
import { CapacityError } from "../errors.ts";
import type { AcquireSlotOptions } from "./job-slots.ts";
import { redisScript, type RedisScript } from "../../platform/stores/redis-script.ts";

/** Options of {@link RedisSlots}. */
export interface RedisSlotsOptions {
  /** The shared connection (commands). A second connection is made from it for the release channel. */
  redis: Redis;
  /** Key prefix of this backend's slots, e.g. `cosyvoice3-gateway:cap:backend-1:` (the same on every instance). */
  key: string;
  /** Jobs running at once over all instances. */
  concurrency: number;
  /** Jobs waiting for a slot over all instances. */
  queueSize: number;
  /** A lease not renewed for this long is gone (a crashed instance's slots come back after it). @default 5_000 @unit milliseconds */
  leaseTtlMs?: number;
  /** How often a waiter asks again without hearing of a release. @default 100 @unit milliseconds */
  pollMs?: number;
  logger: Logger;
}

// KEYS: 1 running (zset lease -> expiry), 2 line (zset lease -> sequence), 3 line expiry (zset
// lease -> expiry), 4 sequence, 5 background running (zset lease -> expiry, also in 1).
// ARGV: 1 lease, 2 ttl, 3 concurrency, 4 queueSize, 5 "join"|"ask"|"bg", 6 background cap.
// Returns {granted (1 slot, 0 in line, -1 refused, -3 background: not now), running, waiting}.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
for _, w in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)) do
  redis.call('ZREM', KEYS[2], w)
  redis.call('ZREM', KEYS[3], w)
end
local running = redis.call('ZCARD', KEYS[1])
local waiting = redis.call('ZCARD', KEYS[2])
local id = ARGV[1]
if redis.call('ZSCORE', KEYS[2], id) then
  if running < tonumber(ARGV[3]) and redis.call('ZRANGE', KEYS[2], 0, 0)[1] == id then
    redis.call('ZREM', KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
    redis.call('ZADD', KEYS[1], now + ttl, id)
    return {1, running + 1, waiting - 1}
  end
  redis.call('ZADD', KEYS[3], now + ttl, id)
  return {0, running, waiting}
end
if ARGV[5] == 'ask' then return {-2, running, waiting} end
if ARGV[5] == 'bg' then
  if running < tonumber(ARGV[3]) and waiting == 0 and redis.call('ZCARD', KEYS[5]) < tonumber(ARGV[6]) then
    redis.call('ZADD', KEYS[1], now + ttl, id)
    redis.call('ZADD', KEYS[5], now + ttl, id)
    return {1, running + 1, waiting}
  end
  return {-3, running, waiting}
end
if running < tonumber(ARGV[3]) and waiting == 0 then
  redis.call('ZADD', KEYS[1], now + ttl, id)
  return {1, running + 1, waiting}
end
if waiting < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), id)
  redis.call('ZADD', KEYS[3], now + ttl, id)
  return {0, running, waiting + 1}
end
return {-1, running, waiting}
`;

// KEYS as above. ARGV: 1 ttl, then leases. Renews each one held (running or in line); returns
// the leases that were gone (expired while this instance stalled).
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lost = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('ZSCORE', KEYS[1], id) then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), id)
    if redis.call('ZSCORE', KEYS[5], id) then redis.call('ZADD', KEYS[5], now + tonumber(ARGV[1]), id) end
  elseif redis.call('ZSCORE', KEYS[3], id) then redis.call('ZADD', KEYS[3], now + tonumber(ARGV[1]), id)
  else lost[#lost + 1] = id end
end
return lost
`;


interface Waiter {
  id: string;
  wake: () => void;
}

/**
 * @example
 * const slots = new RedisSlots({ redis, key: "cosyvoice3-gateway:cap:backend-1:", concurrency: 2, queueSize: 2, logger });
 * const release = await slots.acquire(signal); try { await job(); } finally { release(); }
 */
export class RedisSlots {
  private readonly keys: [string, string, string, string, string];
  private readonly channel: string;
  private readonly ttl: number;
  private readonly pollMs: number;
  private readonly acquireScript: RedisScript;
  private readonly renewScript: RedisScript;
  private readonly held = new Set<string>();
  private readonly waiters = new Set<Waiter>();
  /** Background work waiting for its share (not in the shared line: it asks again on each release). */
  private readonly backgroundWaiters = new Set<Waiter>();
  private subscriber: Redis | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  /** Over all instances, as last seen. */
  private seen = { running: 0, waiting: 0 };
  /** Smoothed job duration, for Retry-After. @unit milliseconds */
  private averageMs = 5_000;
  private closed = false;

  constructor(private readonly opts: RedisSlotsOptions) {
    this.keys = [`${opts.key}running`, `${opts.key}line`, `${opts.key}line-expiry`, `${opts.key}seq`, `${opts.key}background`];
    this.channel = `${opts.key}released`;
    this.ttl = opts.leaseTtlMs ?? 5_000;
    this.pollMs = opts.pollMs ?? 100;
    this.acquireScript = redisScript(opts.redis, "cosyvoiceSlotAcquire2", 5, ACQUIRE);
    this.renewScript = redisScript(opts.redis, "cosyvoiceSlotRenew2", 5, RENEW);
  }

  /** Jobs this instance runs and has waiting (the whole cap's use shows in {@link shared}). */
  get load(): { running: number; waiting: number } {
    return { running: this.held.size, waiting: this.waiters.size + this.backgroundWaiters.size };
  }

  /** True when, as last seen, background work would start at once. */
  get backgroundRoom(): boolean {
    return this.seen.running < this.opts.concurrency && this.seen.waiting === 0;
  }

  /** Jobs running and waiting over all instances, as last seen. */
  get shared(): { running: number; waiting: number } {
    return { ...this.seen };
  }

  /** True when, as last seen, `acquire` would run or queue a job rather than refuse it. */
  get hasRoom(): boolean {
    return this.seen.running < this.opts.concurrency || this.seen.waiting < this.opts.queueSize;
  }

  get concurrency(): number {
    return this.opts.concurrency;
  }

  /** A hint for a refused client: about one job's time per place ahead of it. @unit seconds */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.averageMs * (this.seen.waiting + 1)) / this.opts.concurrency / 1000));
  }

  private async ask(id: string, mode: "join" | "ask" | "bg"): Promise<number> {
    const backgroundCap = Math.max(1, this.opts.concurrency - 1);
    const [granted, running, waiting] = (await guard("job slots", () =>
      this.acquireScript(...this.keys, id, this.ttl, this.opts.concurrency, this.opts.queueSize, mode, backgroundCap),
    )) as [number, number, number];
    this.seen = { running, waiting };
    return granted;
  }

  /**
   * Takes a slot, waiting in the shared line when all run; rejects at once with a capacity
   * refusal when the line is full, with the signal's reason when it aborts while waiting, and
   * with `store_unavailable` when Redis does not answer.
   */
  async acquire(signal?: AbortSignal, opts: AcquireSlotOptions = {}): Promise<() => void> {
    if (signal?.aborted) throw signal.reason;
    const id = randomBytes(12).toString("base64url");
    if (opts.priority === "background") {
      // Background work never joins the shared line (it would stand before interactive
      // requests): it asks again on every release until its share has room.
      const waiter: Waiter = { id, wake: () => undefined };
      this.backgroundWaiters.add(waiter);
      this.ensureBackground();
      try {
        while ((await this.ask(id, "bg")) !== 1) await this.pause(waiter, signal);
      } catch (err) {
        this.backgroundWaiters.delete(waiter);
        this.notifyIdle();
        throw err;
      }
      this.backgroundWaiters.delete(waiter);
      return this.granted(id);
    }
    let granted = await this.ask(id, "join");
    if (granted === -1) {
      const s = this.retryAfterSeconds();
      throw new CapacityError(s * 1000, `${this.seen.running} jobs are running and ${this.seen.waiting} waiting over all gateways`);
    }
    if (granted === 0) {
      const waiter: Waiter = { id, wake: () => undefined };
      this.waiters.add(waiter);
      this.ensureBackground();
      try {
        while (granted !== 1) {
          await this.pause(waiter, signal);
          granted = await this.ask(id, "ask");
          // Our place expired (this instance stalled past the TTL): join the line again.
          if (granted === -2) granted = await this.ask(id, "join");
          if (granted === -1) throw new CapacityError(this.retryAfterSeconds() * 1000, "the place in line expired and the line is full");
        }
      } catch (err) {
        this.waiters.delete(waiter);
        await this.drop(id);
        this.notifyIdle();
        throw err;
      } finally {
        this.waiters.delete(waiter);
      }
    }
    return this.granted(id);
  }

  /** The release of a slot this instance now holds. */
  private granted(id: string): () => void {
    this.held.add(id);
    this.ensureBackground();
    const started = Date.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.averageMs = 0.8 * this.averageMs + 0.2 * (Date.now() - started);
      this.held.delete(id);
      void this.drop(id);
      this.notifyIdle();
    };
  }

  private notifyIdle(): void {
    if (this.held.size > 0 || this.waiters.size > 0 || this.backgroundWaiters.size > 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    w.forEach((f) => f());
  }

  /** Waits for a release announcement, the poll interval, or the signal. */
  private pause(waiter: Waiter, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        waiter.wake = () => undefined;
      };
      const timer = setTimeout(() => {
        done();
        resolve();
      }, this.pollMs);
      const onAbort = () => {
        done();
        reject(signal?.reason);
      };
      waiter.wake = () => {
        done();
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Gives a lease back (slot or place in line) and tells every instance. */
  private async drop(id: string): Promise<void> {
    try {
      await this.opts.redis.multi().zrem(this.keys[0], id).zrem(this.keys[1], id).zrem(this.keys[2], id).zrem(this.keys[4], id).publish(this.channel, id).exec();
    } catch (err) {
      // The lease expires by itself.
      this.opts.logger.warn({ err: (err as Error).message }, "job slot release failed; it expires by itself");
    }
  }

  private ensureBackground(): void {
    if (this.closed) return;
    this.renewTimer ??= setInterval(() => void this.renew(), Math.max(50, Math.floor(this.ttl / 3)));
    this.renewTimer.unref();
    if (!this.subscriber) {
      const sub = this.opts.redis.duplicate();
      this.subscriber = sub;
      sub.on("error", () => undefined);
      sub.on("message", () => {
        for (const w of this.waiters) w.wake();
        for (const w of this.backgroundWaiters) w.wake();
      });
      sub.subscribe(this.channel).catch(() => undefined);
    }
  }

  private async renew(): Promise<void> {
    const leases = [...this.held, ...[...this.waiters].map((w) => w.id)];
    if (leases.length === 0) return;
    try {
      const lost = (await this.renewScript(...this.keys, this.ttl, ...leases)) as string[];
      // A place in line that expired is taken again by its waiter; a running slot cannot be.
      for (const id of lost) if (this.held.has(id)) this.opts.logger.warn({ key: this.opts.key }, "a job slot lease expired while held (the instance stalled)");
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, "job slot renewal failed");
    }
  }

  /** Resolves when this instance runs and waits for nothing on this backend. */
  idle(): Promise<void> {
    if (this.held.size === 0 && this.waiters.size === 0 && this.backgroundWaiters.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops renewing and listening (held leases then expire by themselves). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }
}
