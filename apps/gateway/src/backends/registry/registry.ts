/**
 * The registry of boxes: one {@link Box} per address, read by every door. The synthesis pool
 * (REST, `/v1`, narration jobs), the passthrough (the routes file's routes) and the ASR client
 * each say which boxes they use (`sync`, `add`); a box used by several doors is one entry, with
 * one health check, one set of job slots, one breaker. A box no door uses any more is retired:
 * it takes no new work, what runs on it finishes, and it is forgotten once idle.
 */
import type { Logger } from "pino";
import { Slots } from "../../service/caps/slots.ts";
import type { JobSlots } from "../../service/caps/job-slots.ts";
import type { BoxBreaker } from "../breaker/breaker.ts";
import type { Codec, SynthesisBackend } from "../port.ts";
import { Box, type BoxKind, type BoxStatus, type Door } from "./box.ts";
import { redactUrl } from "./redact.ts";
import { titleForCode } from "./services.ts";

/** One box as a door names it. */
export interface BoxEntry {
  /** Its name when the registry does not know it yet (logs, `/readyz`, metrics). */
  name: string;
  url: string;
  kind?: BoxKind | undefined;
  /** A synthesis door's driver for it (made once: a box that has one keeps it). */
  driver?: (() => SynthesisBackend) | undefined;
  /** Its codec when the kind names it. */
  codec?: Codec["kind"] | undefined;
  /** Its slots when the door brings them (an injected backend); else the registry's. */
  slots?: JobSlots | undefined;
  /** Its breaker when the door brings one; else the registry's (for a synthesis or ASR door). */
  breaker?: BoxBreaker | undefined;
}

/** Options of {@link BoxRegistry}. */
export interface BoxRegistryOptions {
  logger: Logger;
  /** Job slots of a new box (local, or in Redis with `STORE=redis`). @default 2 running, 2 waiting, in this process */
  slotsFor?: (name: string) => JobSlots;
  /** The breaker of a box a synthesis or ASR door uses; undefined: none. @default none */
  breakerFor?: (name: string, url: string) => BoxBreaker | undefined;
  /** Period of the health check `start()` runs, one per box; 0: none. @default 0 @unit milliseconds */
  healthCheckIntervalMs?: number;
  /** A retired box is forgotten once idle and retired this long. @default 3_600_000 @unit milliseconds */
  retireAfterMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** The loopback names of this machine: one host (the article's ocelot.json says `localhost`). */
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * The registry's key of an address: its scheme, host and port (credentials, path and a kind
 * prefix left out; loopback names as one), so `http://asr:8000/v1` (ASR_URL) and
 * `http://asr:8000` (a route) are one box.
 * @example boxKey("fastapi+http://u:p@GPU-1:50000/") // "http://gpu-1:50000"
 */
export function boxKey(url: string): string {
  const bare = url.replace(/^[a-z-]+\+(?=https?:\/\/)/i, "");
  try {
    const u = new URL(bare);
    if (u.hostname === "") return bare;
    const port = u.port !== "" ? `:${u.port}` : "";
    const host = u.hostname.toLowerCase();
    return `${u.protocol}//${LOOPBACK.has(host) ? "localhost" : host}${port}`;
  } catch {
    return bare.replace(/\/+$/, "");
  }
}

const SYNTHESIS_OR_ASR = new Set<Door>(["rest", "v1", "jobs", "asr"]);

/**
 * @example
 * const registry = new BoxRegistry({ logger, healthCheckIntervalMs: 10_000 });
 * registry.sync(["passthrough"], [{ name: "gpu-1", url: "http://gpu-1:7860" }]);
 * registry.start();
 * registry.status(); // [{ name: "gpu-1", kind: "gradio", doors: ["passthrough"], state: "up", ... }]
 */
export class BoxRegistry {
  private readonly byKey = new Map<string, Box>();
  private readonly logger: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: BoxRegistryOptions) {
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
  }

  /** The box at this address (any door's form of it), retired ones included. */
  get(url: string): Box | undefined {
    return this.byKey.get(boxKey(url));
  }

  /** Every box, retired ones included, in the order they came. */
  all(): Box[] {
    return [...this.byKey.values()];
  }

  /** The boxes a door uses now, in the order they came. */
  using(door: Door): Box[] {
    return this.all().filter((b) => b.doors.has(door));
  }

  /**
   * The box at `entry.url` (made when new), now used by `doors` as well.
   * @example const asr = registry.add({ name: "asr", url: "http://asr:8000/v1", kind: "asr" }, ["asr"]);
   */
  add(entry: BoxEntry, doors: readonly Door[]): Box {
    const key = boxKey(entry.url);
    let box = this.byKey.get(key);
    if (!box) {
      box = new Box({ key, name: entry.name, url: entry.url, slots: entry.slots ?? this.newSlots(entry.name), logger: this.logger, now: this.now });
      this.byKey.set(key, box);
    } else if (box.retired) {
      this.logger.info({ backend: box.name, url: redactUrl(box.url), doors }, "box back in use");
    }
    if (entry.slots && box.slots !== entry.slots) box.slots = entry.slots;
    // A kind named by a door (an address's scheme, a route's `kind`, the ASR door) beats a guess.
    if (entry.kind !== undefined) box.declaredKind = entry.kind;
    if (entry.codec !== undefined) box.codec = entry.codec;
    if (entry.driver && !box.driver) box.driver = entry.driver();
    if (entry.breaker) box.breaker = entry.breaker;
    else if (!box.breaker && doors.some((d) => SYNTHESIS_OR_ASR.has(d))) box.breaker = this.opts.breakerFor?.(box.name, box.url);
    for (const d of doors) box.doors.add(d);
    box.retiredAt = 0;
    return box;
  }

  /**
   * Makes `doors` use exactly these boxes: new addresses become boxes (checked at once unless
   * `checkNew: false`), known
   * ones keep their state, and boxes the doors used but no entry names lose those doors (retired
   * when no door is left: no new work, running work finishes).
   * @returns the entries' boxes, in their order
   */
  sync(doors: readonly Door[], entries: readonly BoxEntry[], options: { checkNew?: boolean } = {}): Box[] {
    const fresh = new Set<Box>();
    const listed = entries.map((e) => {
      const known = this.get(e.url);
      const box = this.add(e, doors);
      if (!known) fresh.add(box);
      return box;
    });
    const keep = new Set(listed);
    for (const box of this.all()) {
      if (keep.has(box) || !doors.some((d) => box.doors.has(d))) continue;
      for (const d of doors) box.doors.delete(d);
      if (box.retired) this.retire(box, doors);
    }
    if (!this.closed && options.checkNew !== false) for (const box of fresh) void box.check();
    return listed;
  }

  /** Drops `doors` from one box (retired when none is left). */
  release(box: Box, doors: readonly Door[]): void {
    for (const d of doors) box.doors.delete(d);
    if (box.retired) this.retire(box, doors);
  }

  private retire(box: Box, doors: readonly Door[]): void {
    box.retiredAt = this.now();
    const { running, waiting } = box.slots.load;
    const msg = doors.includes("passthrough") ? "passthrough backend retired: no new sessions" : "backend retired: no new jobs; running jobs finish";
    this.logger.info({ backend: box.name, url: redactUrl(box.url), open: box.open, running, waiting }, msg);
  }

  /** Starts the periodic check, one per box (the first at once); a no-op when its period is 0. */
  start(): void {
    const every = this.opts.healthCheckIntervalMs ?? 0;
    if (every <= 0 || this.timer || this.closed) return;
    void this.checkAll();
    this.timer = setInterval(() => void this.checkAll(), every);
    this.timer.unref();
  }

  /** Checks every box in use now, and forgets retired boxes that are idle. */
  async checkAll(): Promise<void> {
    this.forgetIdle();
    await Promise.all(this.all().filter((b) => !b.retired).map((b) => b.check()));
  }

  /** Forgets retired boxes nothing runs on any more (after `retireAfterMs`; 0: at once). */
  forgetIdle(): void {
    const after = this.opts.retireAfterMs ?? 3_600_000;
    const now = this.now();
    for (const [key, b] of this.byKey) {
      if (b.retired && b.idle && now - b.retiredAt >= after) {
        this.byKey.delete(key);
        void b.close();
      }
    }
  }

  /** Every box in use (and retired ones still running work), once each, as last seen (no network call). */
  status(): BoxStatus[] {
    return this.all()
      .filter((b) => !b.retired || !b.idle)
      .map((b) => b.status(titleForCode));
  }

  /** Stops the checks and closes every box. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.all().map((b) => b.close()));
  }

  private newSlots(name: string): JobSlots {
    return this.opts.slotsFor?.(name) ?? new Slots({ concurrency: 2, queueSize: 2 });
  }
}
