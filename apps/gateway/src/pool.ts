/**
 * Several CosyVoice backends (GPU boxes) behind the one {@link SynthesisBackend} seam the routes
 * use: each box has its own job slots (the concurrency cap and its wait list), a job goes to the
 * box with the fewest outstanding jobs, a periodic health check takes a failed box out and brings
 * it back, and a job the box did not accept (refused connection, its UI queue full) moves to
 * another box. A job the box accepted is never sent twice.
 */
import type { AudioChunk, BackendInfo, RequestOptions, SynthesisRequest, SynthesisResult } from "cosyvoice3-sdk";
import type { Logger } from "pino";
import { connectingBackend, type SynthesisBackend } from "./backend.ts";
import { backendUrls, type GatewayConfig } from "./config.ts";
import { PROBLEM_KINDS, toHttpProblem } from "./problems.ts";
import { Slots } from "./slots.ts";

/** What the pool knows of one backend: `unknown` until its first check or job. */
export type BackendState = "unknown" | "up" | "down";

/** One backend of the pool as `/readyz` reports it (never its URL: that stays in the log). */
export interface BackendStatus {
  name: string;
  state: BackendState;
  running: number;
  waiting: number;
  /** When it was last checked (ISO 8601). */
  checkedAt?: string;
  /** The problem slug of the last failure while down, e.g. `backend-unreachable`. */
  error?: string;
}

/** One backend handed to the pool. */
export interface PoolMember {
  /** Shown in `/readyz` and logs, e.g. `backend-1`. */
  name: string;
  backend: SynthesisBackend;
  /** Its job slots. */
  slots: Slots;
  /** Logged, never sent to clients. */
  url?: string;
}

/** Options of {@link BackendPool}. */
export interface BackendPoolOptions {
  members: PoolMember[];
  logger: Logger;
  /** Period of the health check that `start()` runs; 0 means none. @default 0 @unit milliseconds */
  healthCheckIntervalMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** A job slot on one backend, held for a whole request; it may move once the job fails over. */
export interface Lease {
  /** The backend the job is on now. */
  readonly backend: string;
  /** Frees the slot; safe to call more than once. */
  release(): void;
}

/** Per-call options of the pool: the SDK's, plus the slot the request already holds. */
export interface PoolRequestOptions extends RequestOptions {
  /** From {@link BackendPool.acquire}; without one the call takes (and frees) its own. */
  lease?: Lease;
}

/** A box whose UI queue was full is passed over for this long while others have room. @unit milliseconds */
const QUEUE_FULL_COOL_DOWN_MS = 5_000;

/** Failures that happen before a box accepted anything, so another box may take the job. */
const FAILOVER_CODES = new Set(["connection", "queue_full", "unsupported_backend"]);
/**
 * Whether another box may take the job after this failure: the SDK says the box accepted nothing
 * (`accepted === false`), no progress was seen, the caller did not give up, and the kind fits.
 */
const mayFailOver = (err: unknown, sawProgress: boolean, signal: AbortSignal | undefined): boolean =>
  !sawProgress &&
  !signal?.aborted &&
  FAILOVER_CODES.has(codeOf(err)) &&
  (err as { accepted?: unknown } | null)?.accepted === false;
/** Failures that say the box itself is gone (or is not a CosyVoice UI any more). */
const DOWN_CODES = new Set(["connection", "unsupported_backend"]);

const codeOf = (err: unknown): string => String((err as { code?: unknown } | null)?.code ?? "");

class Member {
  state: BackendState = "unknown";
  checkedAt: number | undefined;
  error: string | undefined;
  /** The last failure itself, for `probe()` to rethrow. */
  lastError: unknown;
  /** Passed over until then (its UI queue was full). @unit milliseconds since the epoch */
  coolUntil = 0;
  checking: Promise<void> | undefined;
  info: BackendInfo | undefined;
  constructor(readonly spec: PoolMember) {}
  get name(): string {
    return this.spec.name;
  }
  get outstanding(): number {
    const { running, waiting } = this.spec.slots.load;
    return (running + waiting) / this.spec.slots.concurrency;
  }
}

class PoolLease implements Lease {
  private releaseSlot: (() => void) | undefined;
  constructor(
    public member: Member,
    release: () => void,
  ) {
    this.releaseSlot = release;
  }
  get backend(): string {
    return this.member.name;
  }
  release(): void {
    const r = this.releaseSlot;
    this.releaseSlot = undefined;
    r?.();
  }
  /** Gives up this slot and waits for one on `next`. */
  async moveTo(next: Member, signal: AbortSignal | undefined): Promise<void> {
    this.release();
    this.member = next;
    this.releaseSlot = await next.spec.slots.acquire(signal);
  }
}

/**
 * @example
 * const pool = new BackendPool({
 *   members: urls.map((url, i) => ({ name: `backend-${i + 1}`, url, backend: connectingBackend(url), slots: new Slots({ concurrency: 2, queueSize: 2 }) })),
 *   logger, healthCheckIntervalMs: 10_000,
 * });
 * pool.start();
 * const result = await pool.synthesize({ mode: "pretrained", text: "Hello.", voice: "中文女" });
 */
export class BackendPool implements SynthesisBackend {
  private readonly members: Member[];
  private readonly logger: Logger;
  private readonly now: () => number;
  /** Rotates where ties in load are broken, so an idle pool still takes turns. */
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: BackendPoolOptions) {
    if (opts.members.length === 0) throw new Error("a backend pool needs at least one backend");
    this.members = opts.members.map((m) => new Member(m));
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
  }

  /**
   * A pool of one backend with the given slots: what the gateway does with a single injected
   * backend, so one code path serves one box and many.
   * @example const pool = BackendPool.single(connectingBackend(url), new Slots({ concurrency: 2, queueSize: 2 }), logger);
   */
  static single(backend: SynthesisBackend, slots: Slots, logger: Logger): BackendPool {
    return new BackendPool({ members: [{ name: "backend-1", backend, slots }], logger });
  }

  /** Starts the periodic health check (the first one at once); a no-op when its interval is 0. */
  start(): void {
    const every = this.opts.healthCheckIntervalMs ?? 0;
    if (every <= 0 || this.timer || this.closed) return;
    void this.checkAll();
    this.timer = setInterval(() => void this.checkAll(), every);
    this.timer.unref();
  }

  /** Each backend's state and load, as last seen (no network call). */
  status(): BackendStatus[] {
    return this.members.map((m) => ({
      name: m.name,
      state: m.state,
      ...m.spec.slots.load,
      ...(m.checkedAt !== undefined ? { checkedAt: new Date(m.checkedAt).toISOString() } : {}),
      ...(m.state === "down" && m.error !== undefined ? { error: m.error } : {}),
    }));
  }

  /** The job slots of one backend, by name. */
  slotsOf(name: string): Slots | undefined {
    return this.members.find((m) => m.name === name)?.spec.slots;
  }

  /** Each backend's name and URL, for the log (never sent to clients). */
  endpoints(): Record<string, string> {
    return Object.fromEntries(this.members.map((m) => [m.name, m.spec.url ?? "(injected)"]));
  }

  /** Jobs running and waiting over all backends. */
  get load(): { running: number; waiting: number } {
    let running = 0;
    let waiting = 0;
    for (const m of this.members) {
      running += m.spec.slots.load.running;
      waiting += m.spec.slots.load.waiting;
    }
    return { running, waiting };
  }

  /** Resolves when no backend runs or queues a job (graceful shutdown). */
  async idle(): Promise<void> {
    // Re-checked after each round: a job failing over may have moved to a box already idle.
    while (this.load.running + this.load.waiting > 0) await Promise.all(this.members.map((m) => m.spec.slots.idle()));
  }

  /** Checks every backend now (`/config` answers and the UI is recognised) and updates its state. */
  async checkAll(): Promise<BackendStatus[]> {
    await Promise.all(this.members.map((m) => this.check(m)));
    return this.status();
  }

  private check(m: Member): Promise<void> {
    m.checking ??= (async () => {
      try {
        const info = await m.spec.backend.probe();
        m.info = info;
        this.markUp(m, "health check");
      } catch (err) {
        this.markDown(m, err, "health check");
      } finally {
        m.checkedAt = this.now();
        m.checking = undefined;
      }
    })();
    return m.checking;
  }

  private markUp(m: Member, why: string): void {
    if (m.state !== "up") {
      this.logger.info({ backend: m.name, url: m.spec.url, was: m.state, why }, "backend up");
      const other = this.members.find((o) => o !== m && o.state === "up" && o.info);
      if (other?.info && m.info && (other.info.variant !== m.info.variant || other.info.model !== m.info.model || other.info.speakers.join() !== m.info.speakers.join())) {
        this.logger.warn({ backend: m.name, variant: m.info.variant, other: other.name, otherVariant: other.info.variant }, "backends differ: voices and modes follow the first ready one");
      }
    }
    m.state = "up";
    m.error = undefined;
  }

  private markDown(m: Member, err: unknown, why: string): void {
    const slug = PROBLEM_KINDS[toHttpProblem(err).code].slug;
    if (m.state !== "down") this.logger.warn({ backend: m.name, url: m.spec.url, was: m.state, why, error: slug, err }, "backend down");
    m.state = "down";
    m.error = slug;
    m.lastError = err;
  }

  /**
   * Backends in the order a job should try them: usable ones (not down, not cooling off after a
   * full queue) by fewest outstanding jobs per slot, ties taken in turn; then cooling ones; then,
   * only when `allowDown`, the ones marked down (when every box is down a job still tries one, so
   * the client gets the real error and a box that is back is found at once).
   */
  private ranked(exclude: ReadonlySet<Member>, allowDown: boolean): Member[] {
    const n = this.members.length;
    const start = this.cursor++ % n;
    const now = this.now();
    const tier = (m: Member) => (m.state === "down" ? 2 : m.coolUntil > now ? 1 : 0);
    return this.members
      .map((m, i) => ({ m, turn: (i - start + n) % n }))
      .filter(({ m }) => !exclude.has(m) && (allowDown || m.state !== "down"))
      .sort((a, b) => tier(a.m) - tier(b.m) || a.m.outstanding - b.m.outstanding || a.turn - b.turn)
      .map(({ m }) => m);
  }

  /**
   * Takes a job slot on the best backend: the first in {@link ranked} order with room, else the
   * least loaded one refuses with `busy` (503 + Retry-After). Waits in that backend's line when
   * its slots are taken; rejects with the signal's reason when it aborts while waiting.
   * @example const lease = await pool.acquire(signal); try { await pool.synthesize(req, { signal, lease }); } finally { lease.release(); }
   */
  async acquire(signal?: AbortSignal): Promise<Lease> {
    const ranked = this.ranked(new Set(), true);
    const up = ranked.filter((m) => m.state !== "down");
    const choice = (up.find((m) => m.spec.slots.hasRoom) ?? up[0]) ?? ranked.find((m) => m.spec.slots.hasRoom) ?? ranked[0];
    if (!choice) throw new Error("unreachable: a pool has members");
    const release = await choice.spec.slots.acquire(signal);
    return new PoolLease(choice, release);
  }

  private leaseOf(lease: Lease | undefined): PoolLease | undefined {
    if (lease === undefined) return undefined;
    if (!(lease instanceof PoolLease) || !this.members.includes(lease.member)) throw new Error("the lease is not from this pool");
    return lease;
  }

  /**
   * After a failure before the box accepted the job: notes what it says about the box, then
   * moves the lease to another usable box with room. False when there is none (the caller
   * rethrows the original error).
   */
  private async failover(lease: PoolLease, err: unknown, tried: Set<Member>, signal: AbortSignal | undefined): Promise<boolean> {
    const from = lease.member;
    const code = codeOf(err);
    if (DOWN_CODES.has(code)) this.markDown(from, err, "job refused");
    // The SDK's Retry-After hint is a client backoff (about a second); a full UI queue stays
    // full for about one job's time, so the box is passed over for a fixed while instead.
    if (code === "queue_full") from.coolUntil = this.now() + QUEUE_FULL_COOL_DOWN_MS;
    const next = this.ranked(tried, false).find((m) => m.spec.slots.hasRoom);
    if (!next) return false;
    this.logger.warn({ from: from.name, to: next.name, code }, "job not accepted; failing over to another backend");
    await lease.moveTo(next, signal);
    return true;
  }

  /** Strips the pool's own option and notes whether the box reported any progress (= accepted). */
  private callOptions(options: PoolRequestOptions, accepted: () => void): RequestOptions {
    const { lease: _lease, onProgress, ...rest } = options;
    return {
      ...rest,
      onProgress: (p) => {
        accepted();
        onProgress?.(p);
      },
    };
  }

  async synthesize(request: SynthesisRequest, options: PoolRequestOptions = {}): Promise<SynthesisResult> {
    const given = this.leaseOf(options.lease);
    const lease = given ?? ((await this.acquire(options.signal)) as PoolLease);
    const tried = new Set<Member>();
    try {
      for (;;) {
        const m = lease.member;
        tried.add(m);
        let accepted = false;
        try {
          const result = await m.spec.backend.synthesize(request, this.callOptions(options, () => (accepted = true)));
          this.markUp(m, "job done");
          return result;
        } catch (err) {
          await this.afterJobFailure(m, lease, err, accepted, tried, options.signal);
        }
      }
    } finally {
      if (!given) lease.release();
    }
  }

  async *stream(request: SynthesisRequest, options: PoolRequestOptions = {}): AsyncGenerator<AudioChunk> {
    const given = this.leaseOf(options.lease);
    const lease = given ?? ((await this.acquire(options.signal)) as PoolLease);
    const tried = new Set<Member>();
    try {
      for (;;) {
        const m = lease.member;
        tried.add(m);
        let accepted = false;
        try {
          for await (const chunk of m.spec.backend.stream(request, this.callOptions(options, () => (accepted = true)))) {
            accepted = true;
            yield chunk;
          }
          this.markUp(m, "job done");
          return;
        } catch (err) {
          await this.afterJobFailure(m, lease, err, accepted, tried, options.signal);
        }
      }
    } finally {
      if (!given) lease.release();
    }
  }

  /**
   * After a job failed on `m`: returns when the lease moved to another box (try again there),
   * otherwise rethrows, marking `m` down when the failure says it is gone.
   */
  private async afterJobFailure(
    m: Member,
    lease: PoolLease,
    err: unknown,
    sawProgress: boolean,
    tried: Set<Member>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (!mayFailOver(err, sawProgress, signal)) {
      if (DOWN_CODES.has(codeOf(err))) this.markDown(m, err, "job failed");
      throw err;
    }
    if (!(await this.failover(lease, err, tried, signal))) throw err;
  }

  /** Asks the backends in preference order until one answers. */
  private async firstAnswer<T>(fn: (b: SynthesisBackend) => Promise<T>): Promise<T> {
    const order = [...this.members].sort((a, b) => rank(a) - rank(b));
    let last: unknown;
    for (const m of order) {
      try {
        return await fn(m.spec.backend);
      } catch (err) {
        last = err;
        if (DOWN_CODES.has(codeOf(err))) this.markDown(m, err, "request failed");
      }
    }
    throw last;
  }

  /** The first ready backend's description (all backends are meant to run the same UI and model). */
  info(): Promise<BackendInfo> {
    return this.firstAnswer((b) => b.info());
  }

  /**
   * Checks every backend now; resolves with the first ready one's description, or rejects with
   * the first backend's failure when none is ready.
   */
  async probe(): Promise<BackendInfo> {
    await this.checkAll();
    const up = this.members.find((m) => m.state === "up" && m.info);
    if (up?.info) return up.info;
    throw this.members.find((m) => m.lastError !== undefined)?.lastError ?? new Error("no backend is ready");
  }

  /** The built-in speakers of the first ready backend (not a union: a job may run on any box). */
  listVoices(): Promise<string[]> {
    return this.firstAnswer((b) => b.listVoices());
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.members.map((m) => m.spec.backend.close().catch(() => undefined)));
  }

  /**
   * What one member is (its variant, model, sample rate), as its client knows it: no network
   * call once it has connected (a job that ran there has). Undefined for an unknown name or a
   * member that cannot say.
   */
  async infoOf(name: string): Promise<BackendInfo | undefined> {
    const m = this.members.find((x) => x.name === name);
    if (!m) return undefined;
    if (m.info) return m.info;
    try {
      m.info = await m.spec.backend.info();
      return m.info;
    } catch {
      return undefined;
    }
  }

  /** The first ready backend's description, as last checked. */
  readyInfo(): { name: string; info: BackendInfo } | undefined {
    const m = this.members.find((x) => x.state === "up" && x.info);
    return m?.info ? { name: m.name, info: m.info } : undefined;
  }
}

const rank = (m: Member): number => (m.state === "up" ? 0 : m.state === "unknown" ? 1 : 2);

/**
 * The pool a configuration describes: one SDK backend per URL of `COSYVOICE_URL`, named
 * `backend-1`, `backend-2`, ... in that order, each with `CONCURRENCY` slots and a wait list of
 * `QUEUE_SIZE`, checked every `HEALTH_CHECK_INTERVAL_MS` once `start()` is called.
 * @example
 * const pool = backendPoolFor(loadConfig(process.env), logger);
 * pool.start();
 */
export function backendPoolFor(config: GatewayConfig, logger: Logger): BackendPool {
  const sdkLogger = logger.child({ component: "sdk" });
  return new BackendPool({
    logger,
    healthCheckIntervalMs: config.healthCheckIntervalMs,
    members: backendUrls(config).map((url, i) => ({
      name: `backend-${i + 1}`,
      url,
      slots: new Slots({ concurrency: config.concurrency, queueSize: config.queueSize }),
      backend: connectingBackend(url, {
        client: { model: config.model, timeoutMs: config.upstreamTimeoutMs, maxRetries: config.upstreamMaxRetries, logger: sdkLogger },
      }),
    })),
  });
}
