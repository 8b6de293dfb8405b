/**
 * A box's circuit breaker shared by every gateway instance on one Redis: one instance's evidence
 * opens it for all, and one half-open probe is shared by all.
 *
 * - Box faults are counted in Redis (`INCR`), consecutively: a job that ends well anywhere
 *   resets the count. The instance whose fault reaches the threshold opens the breaker: it
 *   writes when it opened and announces it on the box's channel; every instance (subscribed,
 *   and reading the state again every `refreshMs` in case it missed one) refuses the box at once.
 * - When `halfOpenAfterMs` has passed, each instance tries to take the box's probe lease
 *   (`SET NX PX`); the one that gets it lets exactly one job through; the others see the box
 *   half-open and wait. The probe's success closes the breaker for all; its failure opens it
 *   again for all; a prober that dies lets its lease lapse and another instance probes.
 * - Redis not answering never stops a job: the breaker then counts and opens on this
 *   instance's evidence alone, as a local breaker would.
 *
 * Its surface is the local breaker's ({@link BoxBreaker}), so every door takes either.
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { isBoxFault, ticketOf, type BoxBreaker, type BreakerState, type BreakerTicket } from "./breaker.ts";

/** Options of {@link SharedBreaker}. */
export interface SharedBreakerOptions {
  /** The commands connection; a second one is made from it for the channel. */
  redis: Redis;
  /** Key prefix of this box's breaker, the same on every instance, e.g. `cosyvoice3-gateway:breaker:<box url>:`. */
  key: string;
  /** Box name, for the log. */
  name: string;
  /** Consecutive box faults (over all instances) that open the breaker. @default 5 */
  threshold?: number;
  /** How long an open breaker refuses before one probe job is let through. @default 10_000 @unit milliseconds */
  halfOpenAfterMs?: number;
  /** How long the probe may run before another instance may probe. @default 60_000 @unit milliseconds */
  probeLeaseMs?: number;
  /** How often the state is read again (a missed announcement is caught then). @default 2_000 @unit milliseconds */
  refreshMs?: number;
  logger: Logger;
  /** @default Date.now */
  now?: () => number;
}

// The state key holds when the breaker opened (ms since the epoch); absent: closed.
const OPEN_FOR = 24 * 60 * 60 * 1000;

/**
 * @example
 * const breaker = new SharedBreaker({ redis, key: "cosyvoice3-gateway:breaker:http://gpu-1:7860:", name: "backend-1", logger });
 * if (breaker.admits()) { const t = breaker.admit(); try { await job(); t.done(); } catch (e) { t.done(e); throw e; } }
 */
export class SharedBreaker implements BoxBreaker {
  private readonly threshold: number;
  private readonly halfOpenAfterMs: number;
  private readonly probeLeaseMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly keys: { failures: string; openedAt: string; probe: string; channel: string };
  private readonly token = randomBytes(9).toString("base64url");
  /** When it opened, as last heard; 0: closed. @unit milliseconds since the epoch */
  private openedAt = 0;
  /** This instance holds the probe lease and has not yet let its probe job through. */
  private probeReady = false;
  /** When this instance's unused probe lease lapses. @unit milliseconds since the epoch */
  private probeUntil = 0;
  /** A probe job (this instance's) is running. */
  private probing = false;
  /** Another instance holds the probe lease. */
  private probedElsewhere = false;
  /** Box faults counted here while Redis did not answer. */
  private localFailures = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly refresher: NodeJS.Timeout;
  private readonly subscriber: Redis;
  private closed = false;
  /** Resolves once this instance listens for changes and has read the shared state (never rejects). */
  readonly ready: Promise<void>;

  constructor(private readonly opts: SharedBreakerOptions) {
    this.threshold = opts.threshold ?? 5;
    this.halfOpenAfterMs = opts.halfOpenAfterMs ?? 10_000;
    this.probeLeaseMs = opts.probeLeaseMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.log = opts.logger.child({ backend: opts.name });
    this.keys = { failures: `${opts.key}failures`, openedAt: `${opts.key}opened-at`, probe: `${opts.key}probe`, channel: `${opts.key}changed` };
    this.subscriber = opts.redis.duplicate();
    this.subscriber.on("error", () => undefined);
    this.subscriber.on("message", () => void this.refresh());
    // Read once listening, so a change announced before the subscription took is not missed.
    this.ready = this.subscriber.subscribe(this.keys.channel).then(
      () => this.refresh(),
      () => this.refresh(),
    );
    this.refresher = setInterval(() => void this.refresh(), opts.refreshMs ?? 2_000);
    this.refresher.unref();
  }

  /** `closed`, `open` (refusing), or `half-open` (a probe, here or elsewhere, is due or running). */
  get state(): BreakerState {
    if (this.openedAt === 0) return "closed";
    if (this.probing || this.probeReady || this.probedElsewhere) return "half-open";
    return "open";
  }

  /** True when a job sent now would run: closed, or this instance holds the probe and its job has not started. */
  admits(): boolean {
    return this.openedAt === 0 || (this.probeReady && !this.probing && this.now() < this.probeUntil);
  }

  /** How long until a job would be admitted (here or by another instance's probe). @unit milliseconds */
  retryAfterMs(now = this.now()): number {
    if (this.admits()) return 0;
    if (this.probing || this.probedElsewhere) return this.halfOpenAfterMs;
    return Math.max(0, this.openedAt + this.halfOpenAfterMs - now);
  }

  /** Takes the right to send one job now; a job allowed while open is the shared probe. */
  allow(): boolean {
    if (!this.admits()) return false;
    if (this.openedAt !== 0) {
      this.probing = true;
      this.probeReady = false;
      this.log.info("breaker half-open: this instance sends the probe job for every instance");
    }
    return true;
  }

  /** The job allowed last ended well, or failed through no fault of the box (while probing: the probe's outcome). */
  success(): void {
    const probe = this.probing;
    this.probing = false;
    void this.succeeded(probe);
  }

  /** The job allowed last failed: counted over every instance when the error declares a box fault. */
  failure(err: unknown): void {
    if (!isBoxFault(err)) return this.success();
    const probe = this.probing;
    this.probing = false;
    void this.failed(probe);
  }

  /**
   * Admits one job (call only when {@link admits} said so, in the same tick); report its end on
   * the ticket. A job admitted while open is the shared probe.
   * @throws Error when the breaker does not admit a job now
   */
  admit(): BreakerTicket {
    return ticketOf(this);
  }

  private async failed(probe: boolean): Promise<void> {
    const { redis } = this.opts;
    try {
      if (probe) {
        await this.open("the probe job failed");
        return;
      }
      const n = await redis.incr(this.keys.failures);
      if (n === 1) await redis.pexpire(this.keys.failures, OPEN_FOR);
      if (n >= this.threshold && this.openedAt === 0) await this.open(`${n} box faults in a row over every instance`);
    } catch {
      // Redis away: this instance's own evidence decides.
      if (++this.localFailures >= this.threshold && this.openedAt === 0) this.openLocally();
    }
  }

  private async succeeded(probe: boolean): Promise<void> {
    this.localFailures = 0;
    const { redis } = this.opts;
    try {
      if (probe) {
        await redis.multi().del(this.keys.openedAt, this.keys.failures, this.keys.probe).publish(this.keys.channel, "closed").exec();
        this.log.info("breaker closed for every instance: the probe job succeeded");
        this.setClosed();
        return;
      }
      // Only the first success after a fault writes: a healthy box costs Redis nothing.
      if (this.openedAt === 0 && (await redis.get(this.keys.failures)) !== null) await redis.del(this.keys.failures);
    } catch {
      if (probe) this.setClosed();
    }
  }

  /** Opens the breaker for every instance now. */
  private async open(why: string): Promise<void> {
    const at = this.now();
    await this.opts.redis.multi().set(this.keys.openedAt, String(at), "PX", OPEN_FOR).del(this.keys.failures, this.keys.probe).publish(this.keys.channel, `open ${at}`).exec();
    this.log.warn({ retryInMs: this.halfOpenAfterMs, why }, "breaker open for every instance: the box gets no jobs");
    this.setOpen(at);
  }

  private openLocally(): void {
    this.log.warn({ retryInMs: this.halfOpenAfterMs }, "breaker open on this instance (Redis does not answer)");
    this.setOpen(this.now());
  }

  private setOpen(at: number): void {
    const changed = this.openedAt !== at;
    this.openedAt = at;
    if (changed) {
      this.probeReady = false;
      this.probedElsewhere = false;
      this.schedule(at + this.halfOpenAfterMs - this.now());
    }
  }

  private setClosed(): void {
    this.openedAt = 0;
    this.probeReady = false;
    this.probing = false;
    this.probedElsewhere = false;
    this.localFailures = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(inMs: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.claimProbe(), Math.max(0, inMs));
    this.timer.unref();
  }

  /** The open period is over: the first instance to take the lease probes; the others wait for its outcome. */
  private async claimProbe(): Promise<void> {
    if (this.openedAt === 0 || this.probing || this.probeReady) return;
    try {
      const got = await this.opts.redis.set(this.keys.probe, this.token, "PX", this.probeLeaseMs, "NX");
      this.probeReady = got === "OK";
      this.probeUntil = this.now() + this.probeLeaseMs;
      this.probedElsewhere = got !== "OK";
      // Whoever probes, look again once its lease could have lapsed (a prober that died).
      if (!this.probeReady) this.schedule(Math.min(this.probeLeaseMs, (await this.opts.redis.pttl(this.keys.probe)) + 50));
    } catch {
      // Redis away: probe from here.
      this.probeReady = true;
      this.probeUntil = this.now() + this.probeLeaseMs;
      this.probedElsewhere = false;
    }
  }

  /** Reads the shared state (on an announcement, and every `refreshMs`). */
  private async refresh(): Promise<void> {
    if (this.closed) return;
    let opened: string | null;
    try {
      opened = await this.opts.redis.get(this.keys.openedAt);
    } catch {
      return;
    }
    if (opened === null) {
      // Closed elsewhere; a breaker opened on local evidence while Redis was away stays as it is.
      if (this.openedAt !== 0 && this.localFailures === 0 && !this.probing) this.setClosed();
      return;
    }
    const at = Number(opened);
    if (Number.isFinite(at) && at !== this.openedAt && !this.probing) {
      this.log.warn({ retryInMs: Math.max(0, at + this.halfOpenAfterMs - this.now()) }, "breaker open: another instance's evidence");
      this.setOpen(at);
    }
  }

  /** Stops listening (the shared state stays in Redis). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.refresher);
    if (this.timer) clearTimeout(this.timer);
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}
