/**
 * Identical jobs in flight run once over every gateway instance on one Redis. The first
 * instance to take the job's lease (`SET key token NX PX lease`) leads: it runs the job and
 * appends each item to a Redis stream named by its token; an instance that finds the lease
 * taken follows that stream (the items from the start, then the rest as they come), so its
 * callers get the leader's audio and no second job reaches a box.
 *
 * The leader renews its lease every `leaseMs / 3`. When the leader fails, or dies (its lease
 * lapses within `leaseMs` and no end was written), a follower that has handed nothing to its
 * callers yet runs the job itself: TTS has no side effects, so running it again is safe. A
 * follower that already passed items on cannot splice another job's audio after them, and
 * fails with `store_unavailable` (503, retry).
 *
 * Redis not answering is no reason to refuse a synthesis: the job then runs here, unshared.
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { StoreUnavailableError } from "../errors.ts";
import { redisScript, type RedisScript } from "../../platform/stores/redis-script.ts";

/** How a job's items cross Redis: each becomes one stream entry of bytes. */
export interface FlightCodec<T> {
  encode(item: T): Buffer;
  decode(bytes: Buffer): T;
}

/** Options of {@link RedisFlights}. */
export interface RedisFlightsOptions {
  redis: Redis;
  /** Key prefix shared by every instance, e.g. `cosyvoice3-gateway:flight:`. */
  prefix: string;
  /** How long a leader that stopped renewing keeps its job (the `SLOT_LEASE_MS` of the slots). @default 5_000 @unit milliseconds */
  leaseMs?: number;
  /** How long a finished job's items stay readable for late followers. @default 30_000 @unit milliseconds */
  keepMs?: number;
  /** How long one blocking read waits before the follower checks that its leader lives. @default 500 @unit milliseconds */
  blockMs?: number;
  logger: Logger;
}

/** What a flight tells the instance running it. */
export interface FlightSide {
  /** Called once when this instance follows another's job (it runs nothing itself). */
  onFollow(): void;
}

// Deletes the lease only while it is still ours.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
// Renews the lease only while it is still ours.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;


/** An entry's kind, in its `k` field. */
const ITEM = "i";
const END = "e";
const FAIL = "f";

/**
 * @example
 * const flights = new RedisFlights({ redis, prefix: "cosyvoice3-gateway:flight:", logger });
 * for await (const chunk of flights.run(key, (signal) => synthesize(signal), chunkCodec, signal, side)) res.write(chunk.data);
 */
export class RedisFlights {
  private readonly leaseMs: number;
  private readonly keepMs: number;
  private readonly blockMs: number;
  private readonly release: RedisScript;
  private readonly renew: RedisScript;

  constructor(private readonly opts: RedisFlightsOptions) {
    this.leaseMs = opts.leaseMs ?? 5_000;
    this.keepMs = opts.keepMs ?? 30_000;
    this.blockMs = opts.blockMs ?? 500;
    this.release = redisScript(opts.redis, "cosyvoiceFlightRelease", 1, RELEASE);
    this.renew = redisScript(opts.redis, "cosyvoiceFlightRenew", 1, RENEW);
  }

  /**
   * Runs `lead` here, or follows the instance already running the job for `key`; yields the
   * job's items either way.
   */
  async *run<T>(key: string, lead: (signal: AbortSignal) => AsyncIterable<T>, codec: FlightCodec<T>, signal: AbortSignal, side: FlightSide): AsyncGenerator<T> {
    const { redis } = this.opts;
    const leaseKey = `${this.opts.prefix}${key}`;
    // A follower whose leader went away runs the job itself, once.
    for (let attempt = 0; attempt < 3; attempt++) {
      const token = randomBytes(12).toString("base64url");
      let taken: string | null;
      try {
        taken = await redis.set(leaseKey, token, "PX", this.leaseMs, "NX");
      } catch (err) {
        this.opts.logger.warn({ err: (err as Error).message }, "shared job lease not answered; the job runs here, unshared");
        yield* lead(signal);
        return;
      }
      if (taken === "OK") {
        yield* this.leadAndRelay(leaseKey, token, lead, codec, signal);
        return;
      }
      const leader = await redis.get(leaseKey).catch(() => null);
      if (leader === null) continue;
      side.onFollow();
      const outcome = yield* this.follow(leaseKey, leader, codec, signal);
      if (outcome === "done") return;
      // The leader failed or died before any item reached our callers: try to lead.
      this.opts.logger.info({ outcome }, "the instance leading a shared job went away; running it here");
    }
    throw new StoreUnavailableError("shared job: its leader kept going away");
  }

  private streamKey(leaseKey: string, token: string): string {
    return `${leaseKey}:${token}`;
  }

  private async *leadAndRelay<T>(leaseKey: string, token: string, lead: (signal: AbortSignal) => AsyncIterable<T>, codec: FlightCodec<T>, signal: AbortSignal): AsyncGenerator<T> {
    const { redis, logger } = this.opts;
    const stream = this.streamKey(leaseKey, token);
    const timer = setInterval(() => {
      this.renew(leaseKey, token, this.leaseMs).catch(() => undefined);
    }, Math.max(50, Math.floor(this.leaseMs / 3)));
    timer.unref();
    // Relaying is best effort: a follower that misses an entry sees the lease end without an end entry and runs the job itself.
    let relaying = Promise.resolve();
    const append = (kind: string, data: Buffer) => {
      relaying = relaying
        .then(() => redis.multi().xadd(stream, "*", "k", kind, "d", data).pexpire(stream, kind === ITEM ? this.leaseMs * 60 : this.keepMs).exec())
        .then(
          () => undefined,
          (err: unknown) => logger.warn({ err: (err as Error).message }, "shared job item not relayed"),
        );
    };
    try {
      for await (const item of lead(signal)) {
        append(ITEM, codec.encode(item));
        yield item;
      }
      append(END, Buffer.alloc(0));
    } catch (err) {
      append(FAIL, Buffer.from((err as Error)?.message ?? "failed"));
      throw err;
    } finally {
      clearInterval(timer);
      await relaying;
      await this.release(leaseKey, token).catch(() => undefined);
    }
  }

  /** Yields the leader's items; "done" after its end, "lost" when it failed or died before any item. */
  private async *follow<T>(leaseKey: string, token: string, codec: FlightCodec<T>, signal: AbortSignal): AsyncGenerator<T, "done" | "lost"> {
    const stream = this.streamKey(leaseKey, token);
    // A blocking read holds its connection: each follower reads on its own.
    const reader = this.opts.redis.duplicate({ maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
    reader.on("error", () => undefined);
    const stop = () => reader.disconnect();
    signal.addEventListener("abort", stop, { once: true });
    let last = "0";
    let yielded = 0;
    try {
      await reader.connect();
      for (;;) {
        if (signal.aborted) throw signal.reason;
        const reply = (await reader.xreadBuffer("BLOCK", this.blockMs, "STREAMS", stream, last)) as [Buffer, [Buffer, Buffer[]][]][] | null;
        const entries = reply?.[0]?.[1] ?? [];
        for (const [id, fields] of entries) {
          last = id.toString();
          const kind = fields[1]?.toString();
          const data = fields[3] ?? Buffer.alloc(0);
          if (kind === END) return "done";
          if (kind === FAIL) {
            if (yielded === 0) return "lost";
            throw new StoreUnavailableError(`shared job: its leader failed mid-way (${data.toString()})`);
          }
          yielded++;
          yield codec.decode(data);
        }
        if (entries.length === 0 && (await this.opts.redis.get(leaseKey).catch(() => token)) !== token) {
          // The lease is gone: the end may have been written just before; one more read says.
          const tail = (await reader.xreadBuffer("STREAMS", stream, last)) as [Buffer, [Buffer, Buffer[]][]][] | null;
          if ((tail?.[0]?.[1] ?? []).length > 0) continue;
          if (yielded === 0) return "lost";
          throw new StoreUnavailableError("shared job: the instance leading it stopped");
        }
      }
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError("shared job", { cause: err });
    } finally {
      signal.removeEventListener("abort", stop);
      reader.disconnect();
    }
  }
}
