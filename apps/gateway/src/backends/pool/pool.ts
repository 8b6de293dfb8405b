/**
 * Several synthesis boxes behind the one {@link SynthesisBackend} seam: the boxes of the registry
 * its doors (REST, `/v1`, narration jobs) use, read afresh for every job, so a routes-file reload
 * that adds or removes a box takes effect at once (a removed box takes no new job; its running
 * jobs finish). Each box has its own job slots, a job goes to the box with the fewest
 * outstanding jobs among those whose variant and model can run it (`rank.ts`), the registry's
 * periodic health check takes a failed box out and brings it back, and a job the box did not
 * accept moves to another box (`failover.ts`). One loop runs every job: a whole clip is a
 * stream of one item.
 */
import { ConnectionError, type RequestOptions, type SynthesisRequest, type SynthesisResult } from "cosyvoice3-sdk";
import type { BackendChunk, BoxInfo } from "../port.ts";
import type { Logger } from "pino";
import type { SynthesisBackend } from "../port.ts";
import { BreakerOpenError } from "../breaker/index.ts";
import type { JobSlots } from "../../service/caps/job-slots.ts";
import { faultOf } from "../faults.ts";
import { Box, BoxRegistry, POOL_DOORS, tagBoxKind, type BoxEntry, type Door } from "../registry/index.ts";
import { codeOf, decideAfterFailure, verdictOn } from "./failover.ts";
import { PoolLease, type Lease } from "./lease.ts";
import { needsOf, rank, type JobNeeds, type RankedBox } from "./rank.ts";
import type { AcquireOptions, BackendPoolOptions, BackendStatus, BackendView, PoolMember, PoolObserver, PoolRequestOptions, Readiness } from "./types.ts";

export type { AcquireOptions, BackendPoolOptions, BackendStatus, BackendView, PoolMember, PoolObserver, PoolRequestOptions, Readiness } from "./types.ts";

type MemberLease = PoolLease<Box>;

/** The order to ask boxes a question that any may answer: up, then unseen, then down. */
const answerOrder = (m: Box): number => (m.health.state === "up" ? 0 : m.health.state === "unknown" ? 1 : 2);

/** What ranking sees of one box. */
function viewOf(box: Box): RankedBox {
  const { running, waiting } = box.slots.load;
  const info = box.health.info;
  return {
    state: box.health.state,
    coolUntil: box.coolUntil,
    outstanding: (running + waiting) / box.slots.concurrency,
    blocked: box.breaker ? !box.breaker.admits() : false,
    ...(info ? { can: { modes: info.modes, speakers: info.speakers, instructNeeds: info.instructNeeds, speed: info.speed } } : {}),
  };
}

/** A pool member as a registry entry (an injected backend has no address: it gets a name of its own). */
function entryOf(m: PoolMember): BoxEntry {
  const backend = m.backend;
  return {
    name: m.name,
    url: m.url ?? `injected:${m.name}`,
    ...(m.kind !== undefined ? { kind: m.kind } : {}),
    ...(m.codec !== undefined ? { codec: m.codec } : {}),
    driver: () => backend,
    slots: m.slots,
    ...(m.breaker ? { breaker: m.breaker } : {}),
  };
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
  /** The boxes this pool (and every other door) reads. */
  readonly registry: BoxRegistry;
  private readonly doors: Door[];
  private readonly logger: Logger;
  private readonly now: () => number;
  /** Rotates where ties in load are broken, so an idle pool still takes turns. */
  private cursor = 0;
  private observer: PoolObserver | undefined;
  private closed = false;

  constructor(private readonly opts: BackendPoolOptions) {
    if (opts.members.length === 0 && !opts.registry) throw new Error("a backend pool needs at least one backend");
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    this.observer = opts.observer;
    this.doors = [...POOL_DOORS];
    this.registry =
      opts.registry ??
      new BoxRegistry({ logger: opts.logger, now: this.now, ...(opts.healthCheckIntervalMs !== undefined ? { healthCheckIntervalMs: opts.healthCheckIntervalMs } : {}) });
    for (const m of opts.members) this.registry.add(entryOf(m), this.doors);
  }

  /** The boxes that take new jobs now (the registry's, for this pool's doors), in order. */
  private get members(): Box[] {
    return this.registry.using("rest").filter((b) => b.driver !== undefined);
  }

  /** Every box this pool ever sent jobs to that is still known: retired ones finish their jobs. */
  private get everyBox(): Box[] {
    return this.registry.all().filter((b) => b.driver !== undefined);
  }

  /**
   * Serves one more door from the same boxes (narration jobs: `jobs`), shown at `/readyz` and
   * `/metrics`.
   */
  addDoor(door: Door): void {
    if (!this.doors.includes(door)) this.doors.push(door);
    for (const b of this.members) b.doors.add(door);
  }

  /**
   * Makes the pool's boxes exactly these addresses (`COSYVOICE_URL`'s form, a kind prefix
   * allowed), live: a new address becomes a box that takes the next jobs; a box left out takes
   * no new job and its running jobs finish. A new box is checked at once unless `checkNew: false`
   * (the first boxes: `start()` checks them). Needs `addressEntry` (see `backendPoolFor`).
   * @example pool.sync(["fastapi+http://gpu-2:50000"]) // backend-2 in, backend-1 out
   */
  sync(addresses: readonly string[], options: { checkNew?: boolean } = {}): void {
    const entryFor = this.opts.addressEntry;
    if (!entryFor) throw new Error("this pool was not built from addresses; it cannot take new ones");
    const taken = new Set(this.registry.all().map((b) => b.name));
    let n = 0;
    const nextName = () => {
      let name: string;
      do name = `backend-${++n}`;
      while (taken.has(name));
      taken.add(name);
      return name;
    };
    const before = new Set(this.members);
    const boxes = this.registry.sync(
      this.doors,
      addresses.map((a) => {
        const entry = entryFor(a);
        return { ...entry, name: this.registry.get(entry.url)?.name ?? nextName() };
      }),
      options,
    );
    const added = boxes.filter((b) => !before.has(b));
    const removed = [...before].filter((b) => !boxes.includes(b));
    if (added.length + removed.length > 0) this.logger.info({ added: added.map((b) => b.name), removed: removed.map((b) => b.name) }, "the synthesis pool's boxes changed");
  }

  /**
   * A pool of one backend with the given slots: what the gateway does with a single injected
   * backend, so one code path serves one box and many.
   * @example const pool = BackendPool.single(connectingBackend(url), new Slots({ concurrency: 2, queueSize: 2 }), logger);
   */
  static single(backend: SynthesisBackend, slots: JobSlots, logger: Logger): BackendPool {
    return new BackendPool({ members: [{ name: "backend-1", backend, slots }], logger });
  }

  /** Starts the periodic health check (the first one at once); a no-op when its interval is 0. */
  start(): void {
    if (this.closed) return;
    this.registry.start();
  }

  /** Each backend's state and load, as last seen (no network call). */
  status(): BackendStatus[] {
    return this.members.map((m) => {
      const kind = synthesisKind(m);
      return {
      name: m.name,
      ...(kind !== undefined ? { kind } : {}),
      state: m.health.state,
      ...m.slots.load,
      ...(m.health.checkedAt !== undefined ? { checkedAt: new Date(m.health.checkedAt).toISOString() } : {}),
      ...(m.health.state === "down" && m.health.error !== undefined ? { error: m.health.error } : {}),
      ...(m.breaker ? { breaker: m.breaker.state } : {}),
      };
    });
  }

  /** Reports slot waits and jobs to `observer` from now on (the app's metrics). */
  observe(observer: PoolObserver): void {
    this.observer = observer;
  }

  /** The refusal when every box that might take a job has its breaker open: retry when the first is probed. */
  private breakerOpen(): BreakerOpenError {
    const resting = this.members.filter((m) => m.breaker && !m.breaker.admits());
    const wait = Math.min(...resting.map((m) => m.breaker?.retryAfterMs() ?? 1_000));
    return new BreakerOpenError(Number.isFinite(wait) ? wait : 1_000, resting.map((m) => m.name));
  }

  /**
   * Everything the pool knows of each backend (state, what it is, its load), without a network
   * call: what other doors (capabilities, metrics, the passthrough) read.
   * @example pool.backends().filter((b) => b.modes?.includes("instruct")).map((b) => b.name)
   */
  backends(): BackendView[] {
    const statuses = this.status();
    return this.members.map((m, i) => {
      const info = m.health.info;
      const status = statuses[i] as BackendStatus;
      const codec = info?.codec ?? m.codec;
      return {
        ...status,
        concurrency: m.slots.concurrency,
        ...(codec !== undefined ? { codec } : {}),
        ...(info
          ? { variant: info.variant, model: info.model, modes: [...info.modes], speakers: [...info.speakers], ...(info.sampleRate !== undefined ? { sampleRate: info.sampleRate } : {}) }
          : {}),
      };
    });
  }

  /** The job slots of one backend, by name. */
  slotsOf(name: string): JobSlots | undefined {
    return this.members.find((m) => m.name === name)?.slots;
  }

  /** Each backend's name and URL, for the log (never sent to clients; show it through `redactUrl`). */
  endpoints(): Record<string, string> {
    return Object.fromEntries(this.members.map((m) => [m.name, m.url.startsWith("injected:") ? "(injected)" : m.url]));
  }

  /** Jobs running and waiting over all backends. */
  get load(): { running: number; waiting: number } {
    let running = 0;
    let waiting = 0;
    for (const m of this.everyBox) {
      running += m.slots.load.running;
      waiting += m.slots.load.waiting;
    }
    return { running, waiting };
  }

  /** Resolves when no backend runs or queues a job (graceful shutdown). */
  async idle(): Promise<void> {
    // Re-checked after each round: a job failing over may have moved to a box already idle.
    while (this.load.running + this.load.waiting > 0) await Promise.all(this.everyBox.map((m) => m.slots.idle()));
  }

  /** Checks every backend now (`/config` answers and the UI is recognised) and updates its state. */
  async checkAll(): Promise<BackendStatus[]> {
    await Promise.all(this.members.map((m) => m.health.check()));
    return this.status();
  }

  /**
   * Readiness from what the pool knows. Only a box never seen, or marked down, is looked at
   * again (single-flight; for a down box a burst of three, then one per `readinessRecheckMs`), so
   * however often this is asked (it is unauthenticated) an up box sees no check from it and a
   * down one a bounded few; an up box is kept fresh by the periodic check and by its jobs.
   * @example const { ready, backends } = await pool.readiness();
   */
  async readiness(): Promise<Readiness> {
    const recheck = this.opts.readinessRecheckMs ?? 1_000;
    // Every box in use, not only the pool's: the ASR box and the passthrough's show there too.
    await Promise.all(this.registry.all().filter((m) => !m.retired && m.health.shouldRecheck(recheck)).map((m) => m.health.check()));
    const ready = this.readyInfo();
    const failed = this.members.find((m) => m.health.lastError !== undefined);
    return { ready, backends: this.status(), boxes: this.registry.status(), ...(ready === undefined && failed ? { lastError: failed.health.lastError } : {}) };
  }

  private ranked(exclude: ReadonlySet<Box>, allowDown: boolean, needs: JobNeeds | undefined): Box[] {
    const members = this.members;
    const skip = new Set([...exclude].map((m) => members.indexOf(m)).filter((i) => i >= 0));
    const order = rank(
      members.map(viewOf),
      { now: this.now(), start: this.cursor++, exclude: skip, allowDown, needs },
    );
    return order.map((i) => members[i] as Box);
  }

  /**
   * Takes a job slot on the best backend for the job: the first in rank order with room, else
   * the least loaded one refuses with a `CapacityError`. Waits in that backend's line when its
   * slots are taken; rejects with the signal's reason when it aborts while waiting. When no box
   * is known to run the job, any box is chosen and its own answer (the SDK's mode error) stands.
   * @example const lease = await pool.acquire(signal, { needs: { mode: "clone" } }); try { await pool.synthesize(req, { signal, lease }); } finally { lease.release(); }
   */
  async acquire(signal?: AbortSignal, options: AcquireOptions = {}): Promise<Lease> {
    // A routes file may list no box for a moment: nothing was sent, another try may find one.
    if (this.members.length === 0) throw new ConnectionError("The synthesis pool has no backend", { accepted: false });
    let ranked = this.ranked(new Set(), true, options.needs);
    if (ranked.length === 0) ranked = this.ranked(new Set(), true, undefined);
    // Every box is resting after repeated faults: a fast refusal, not a wait.
    if (ranked.length === 0) throw this.breakerOpen();
    const up = ranked.filter((m) => m.health.state !== "down");
    const background = options.priority === "background";
    // Background work goes where it starts at once, else waits where interactive work does.
    const roomy = (m: Box) => (background ? (m.slots.backgroundRoom ?? m.slots.hasRoom) : m.slots.hasRoom);
    const choice = (up.find(roomy) ?? up[0]) ?? ranked.find(roomy) ?? ranked[0];
    if (!choice) throw new Error("unreachable: a pool has members");
    const waitStarted = Date.now();
    const release = await choice.slots.acquire(signal, background ? { priority: "background" } : {});
    this.observer?.queueWait(choice.name, (Date.now() - waitStarted) / 1000);
    return new PoolLease(choice, release);
  }

  private leaseOf(lease: Lease | undefined): MemberLease | undefined {
    if (lease === undefined) return undefined;
    if (!(lease instanceof PoolLease) || !(lease.member instanceof Box) || this.registry.get(lease.member.url) !== lease.member) throw new Error("the lease is not from this pool");
    return lease as MemberLease;
  }

  async synthesize(request: SynthesisRequest, options: PoolRequestOptions = {}): Promise<SynthesisResult> {
    let result: SynthesisResult | undefined;
    // Drained, not returned from: the loop marks the box up once its one item is through.
    for await (const r of this.run(request, options, (b, o) => oneItem(b.synthesize(request, o)))) result = r;
    if (!result) throw new Error("unreachable: a job ended without its result");
    return result;
  }

  stream(request: SynthesisRequest, options: PoolRequestOptions = {}): AsyncGenerator<BackendChunk> {
    return this.run(request, options, (b, o) => b.stream(request, o));
  }

  /**
   * The one job loop: runs `attempt` on the lease's box; after a failure, {@link decideAfterFailure}
   * says whether the lease moves to another box that can run the job (and the job starts there
   * afresh), or the failure is the answer.
   */
  private async *run<T>(
    request: SynthesisRequest,
    options: PoolRequestOptions,
    attempt: (backend: SynthesisBackend, options: RequestOptions) => AsyncIterable<T>,
  ): AsyncGenerator<T> {
    const needs = needsOf(request);
    const given = this.leaseOf(options.lease);
    const lease = given ?? ((await this.acquire(options.signal, { needs })) as MemberLease);
    const { lease: _lease, onProgress, ...rest } = options;
    const tried = new Set<Box>();
    // Audio already given to the caller (then no other box may take over), and whether the job
    // already moved once after a box had accepted it.
    let yielded = false;
    let resentAfterAcceptance = false;
    try {
      for (;;) {
        const m = lease.member;
        tried.add(m);
        const breaker = m.breaker;
        const driver = m.driver;
        if (!driver) throw new Error("unreachable: a pool box has a driver");
        if (breaker && !breaker.allow()) {
          // Its breaker opened while this job waited in its line: another box, or a fast refusal.
          const next = this.ranked(tried, false, needs).find((x) => x.slots.hasRoom);
          if (!next) throw this.breakerOpen();
          await lease.moveTo(next, options.signal);
          continue;
        }
        // Exactly one outcome per job allowed (the breaker's probe, when it is one).
        let settled = false;
        const settle = (err?: unknown) => {
          if (settled || !breaker) return;
          settled = true;
          if (err === undefined) breaker.success();
          else breaker.failure(err);
        };
        const started = Date.now();
        let reported = false;
        const report = (outcome: "ok" | "error" | "aborted") => {
          if (reported) return;
          reported = true;
          this.observer?.job(m.name, outcome, (Date.now() - started) / 1000);
        };
        let sawProgress = false;
        const callOptions: RequestOptions = {
          ...rest,
          onProgress: (p) => {
            sawProgress = true;
            onProgress?.(p);
          },
        };
        try {
          for await (const item of attempt(driver, callOptions)) {
            sawProgress = true;
            yielded = true;
            yield item;
          }
          settle();
          report("ok");
          m.health.markUp("job done");
          // What the box is, for routing the next jobs (its client knows it once connected).
          if (!m.health.info) await this.infoOf(m.name);
          return;
        } catch (err) {
          settle(err);
          report(options.signal?.aborted === true ? "aborted" : "error");
          const decision = decideAfterFailure({ fault: faultOf(err), sawProgress, callerGaveUp: options.signal?.aborted === true, yielded, resentAfterAcceptance });
          if (decision.markDown) m.health.markDown(err, decision.failOver ? "job refused" : "job failed");
          if (decision.coolDownMs > 0) m.coolUntil = this.now() + decision.coolDownMs;
          const next = decision.failOver ? this.ranked(tried, false, needs).find((x) => x.slots.hasRoom) : undefined;
          if (!next) throw tagBoxKind(err, m.kind);
          if (decision.afterAcceptance) resentAfterAcceptance = true;
          this.logger.warn(
            { from: m.name, to: next.name, code: codeOf(err) },
            decision.afterAcceptance ? "the box failed the job before any audio went out; running it once more on another backend" : "job not accepted; failing over to another backend",
          );
          await lease.moveTo(next, options.signal);
        } finally {
          // The consumer stopped reading (a stream left early): the box did nothing wrong.
          settle();
          report("aborted");
        }
      }
    } finally {
      if (!given) lease.release();
    }
  }

  /** Asks the backends in preference order until one answers. */
  private async firstAnswer<T>(fn: (b: SynthesisBackend) => Promise<T>): Promise<T> {
    const order = [...this.members].sort((a, b) => answerOrder(a) - answerOrder(b));
    let last: unknown;
    for (const m of order) {
      try {
        return await fn(m.driver as SynthesisBackend);
      } catch (err) {
        last = err;
        if (verdictOn(faultOf(err)).markDown) m.health.markDown(err, "request failed");
      }
    }
    throw tagBoxKind(last, order[order.length - 1]?.kind);
  }

  /** The first ready backend's description. */
  info(): Promise<BoxInfo> {
    return this.firstAnswer((b) => b.info());
  }

  /**
   * Checks every backend now; resolves with the first ready one's description, or rejects with
   * the first backend's failure when none is ready.
   */
  async probe(): Promise<BoxInfo> {
    await this.checkAll();
    const up = this.readyInfo();
    if (up) return up.info;
    throw this.members.find((m) => m.health.lastError !== undefined)?.health.lastError ?? new ConnectionError("No backend is ready", { accepted: false });
  }

  /**
   * The built-in speakers the pool offers: every speaker of the boxes it has seen that are not
   * down, in order (a job naming one goes only to a box that has it); before any box is known,
   * the first that answers.
   */
  async listVoices(): Promise<string[]> {
    const known = this.members.filter((m) => m.health.info && m.health.state !== "down");
    if (known.length === 0) return this.firstAnswer((b) => b.listVoices());
    return [...new Set(known.flatMap((m) => m.health.info?.speakers ?? []))];
  }

  /**
   * What one member is (its variant, model, sample rate), as its client knows it: no network
   * call once it has connected (a job that ran there has). Undefined for an unknown name or a
   * member that cannot say.
   */
  async infoOf(name: string): Promise<BoxInfo | undefined> {
    const m = this.members.find((x) => x.name === name);
    if (!m) return undefined;
    if (m.health.info) return m.health.info;
    try {
      m.health.info = await (m.driver as SynthesisBackend).info();
      return m.health.info;
    } catch {
      return undefined;
    }
  }

  /** Closes every box of the registry (drivers, slots, breakers, connections): the last thing a gateway stops. */
  async close(): Promise<void> {
    this.closed = true;
    await this.registry.close();
  }

  /** The first ready backend's description, as last checked. */
  readyInfo(): { name: string; info: BoxInfo } | undefined {
    const m = this.members.find((x) => x.health.state === "up" && x.health.info);
    return m?.health.info ? { name: m.name, info: m.health.info } : undefined;
  }
}

/** A promise as a stream of its one value (a whole clip through the job loop). */
async function* oneItem<T>(p: Promise<T>): AsyncGenerator<T> {
  yield await p;
}

/** A pool box's kind as the pool's doors know kinds (a synthesis kind, once named or checked). */
function synthesisKind(m: Box): BoxInfo["kind"] | undefined {
  const k = m.kind;
  return k === "asr" || k === "http" ? undefined : k;
}
