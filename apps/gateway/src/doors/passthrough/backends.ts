/**
 * The passthrough's backends, by URL, living across reloads of the routes file: their health
 * (a periodic check of `/config`, and every failed connection), whether they are Gradio apps,
 * their open requests, their keep-alive connections and their job slots. A reload that keeps a
 * URL keeps all of this; a URL that leaves every route is retired (no new sessions, sessions
 * already on it may finish) and forgotten once nothing uses it.
 */
import { Agent, request } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Logger } from "pino";
import type { JobSlots } from "../../service/caps/job-slots.ts";

/** What the registry knows of one backend. */
export type BackendHealth = "unknown" | "up" | "down";

/** One backend. */
export class PassthroughBackend {
  health: BackendHealth = "unknown";
  /** True once `/config` answered as a Gradio app; false once it answered as something else. */
  gradio: boolean | undefined;
  /** Requests being proxied to it now. */
  open = 0;
  /** No route lists it any more: no new sessions. */
  retired = false;
  retiredAt = 0;
  checkedAt = 0;
  lastError: string | undefined;
  readonly agent: Agent;
  private detecting: Promise<void> | undefined;
  constructor(
    readonly url: string,
    public name: string,
    readonly slots: JobSlots,
  ) {
    const Ctor = url.startsWith("https:") ? HttpsAgent : Agent;
    // Keep-alive: a new TCP connection per proxied request would cost more than the proxying.
    // An idle connection is closed after 4 s, before uvicorn's own 5 s keep-alive timeout, so a
    // request is never written into a socket the server is closing.
    this.agent = new Ctor({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 64, scheduling: "lifo", timeout: 4_000 });
  }
  /** May take new sessions. */
  get usable(): boolean {
    return !this.retired && this.health !== "down";
  }
  /** Outstanding jobs per slot, for the least-outstanding balancer. */
  get outstanding(): number {
    const { running, waiting } = this.slots.load;
    return (running + waiting) / this.slots.concurrency;
  }
  /** Runs one check unless one is running. */
  check(logger: Logger, timeoutMs: number): Promise<void> {
    this.detecting ??= probe(this.url, this.agent, timeoutMs)
      .then(
        (r) => {
          if (r.gradio !== undefined) this.gradio = r.gradio;
          this.markUp(logger, "health check");
        },
        (err: Error) => this.markDown(logger, err.message, "health check"),
      )
      .finally(() => {
        this.checkedAt = Date.now();
        this.detecting = undefined;
      });
    return this.detecting;
  }
  markUp(logger: Logger, why: string): void {
    if (this.health !== "up") logger.info({ backend: this.name, url: this.url, was: this.health, why }, "passthrough backend up");
    this.health = "up";
    this.lastError = undefined;
  }
  markDown(logger: Logger, error: string, why: string): void {
    if (this.health !== "down") logger.warn({ backend: this.name, url: this.url, was: this.health, why, error }, "passthrough backend down");
    this.health = "down";
    this.lastError = error;
  }
}

/**
 * GET `<url>/config`: any HTTP answer means the box is up; a 200 JSON with `dependencies` and
 * `components` means it is a Gradio app.
 */
function probe(url: string, agent: Agent, timeoutMs: number): Promise<{ gradio: boolean | undefined }> {
  return new Promise((resolve, reject) => {
    const target = new URL(`${url}/config`);
    const req = (target.protocol === "https:" ? httpsRequest : request)(target, { agent, timeout: timeoutMs, headers: { accept: "application/json" } }, (res) => {
      if ((res.statusCode ?? 500) >= 500) {
        res.resume();
        return reject(new Error(`status ${res.statusCode}`));
      }
      if (res.statusCode !== 200 || !String(res.headers["content-type"] ?? "").includes("json")) {
        res.resume();
        return resolve({ gradio: false });
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size <= 4 * 1024 * 1024) chunks.push(c);
      });
      res.on("end", () => {
        try {
          const cfg = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
          resolve({ gradio: Array.isArray(cfg["dependencies"]) && Array.isArray(cfg["components"]) });
        } catch {
          resolve({ gradio: false });
        }
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (err: NodeJS.ErrnoException) => reject(new Error(err.code ?? err.message)));
    req.end();
  });
}

/** Options of {@link BackendRegistry}. */
export interface BackendRegistryOptions {
  logger: Logger;
  /** Job slots of a backend: the REST pool's when it has this URL, else new ones. */
  slotsFor: (url: string) => JobSlots;
  /** @default 10_000; 0 turns the periodic check off @unit milliseconds */
  healthCheckIntervalMs?: number;
  /** A retired backend is forgotten after this long without open requests or jobs. @default 3_600_000 @unit milliseconds */
  retireAfterMs?: number;
}

/**
 * @example
 * const registry = new BackendRegistry({ logger, slotsFor: () => new Slots({ concurrency: 2, queueSize: 2 }) });
 * registry.sync([{ name: "gpu-1", url: "http://gpu-1:7860" }]);
 */
export class BackendRegistry {
  private readonly byUrl = new Map<string, PassthroughBackend>();
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly opts: BackendRegistryOptions) {}

  get(url: string): PassthroughBackend | undefined {
    return this.byUrl.get(url);
  }

  all(): PassthroughBackend[] {
    return [...this.byUrl.values()];
  }

  /**
   * Makes the registry hold exactly these backends as live ones: new URLs are added (and
   * checked at once), known ones keep their state, the others are retired.
   */
  sync(backends: readonly { name: string; url: string }[]): PassthroughBackend[] {
    const now = Date.now();
    const wanted = new Set(backends.map((b) => b.url));
    const added: PassthroughBackend[] = [];
    for (const b of backends) {
      let known = this.byUrl.get(b.url);
      if (!known) {
        known = new PassthroughBackend(b.url, b.name, this.opts.slotsFor(b.url));
        this.byUrl.set(b.url, known);
        added.push(known);
      } else if (known.retired) {
        known.retired = false;
        this.opts.logger.info({ backend: known.name, url: known.url }, "passthrough backend back in the routes");
      }
      known.name = b.name;
    }
    for (const b of this.byUrl.values()) {
      if (wanted.has(b.url) || b.retired) continue;
      b.retired = true;
      b.retiredAt = now;
      this.opts.logger.info({ backend: b.name, url: b.url, open: b.open, ...b.slots.load }, "passthrough backend retired: no new sessions");
    }
    for (const b of added) void b.check(this.opts.logger, 5_000);
    return added;
  }

  /** Starts the periodic check (also drops retired backends nothing uses any more). */
  start(): void {
    const every = this.opts.healthCheckIntervalMs ?? 10_000;
    if (every <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.checkAll(), every);
    this.timer.unref();
  }

  /** Checks every live backend now. */
  async checkAll(): Promise<void> {
    const now = Date.now();
    const retireAfter = this.opts.retireAfterMs ?? 3_600_000;
    for (const [url, b] of this.byUrl) {
      const idle = b.open === 0 && b.slots.load.running + b.slots.load.waiting === 0;
      if (b.retired && idle && now - b.retiredAt > retireAfter) {
        b.agent.destroy();
        this.byUrl.delete(url);
      }
    }
    await Promise.all(this.all().filter((b) => !b.retired).map((b) => b.check(this.opts.logger, Math.min(5_000, this.opts.healthCheckIntervalMs ?? 5_000))));
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const b of this.byUrl.values()) b.agent.destroy();
  }
}
