/**
 * One box: a server at one address (a GPU box running a CosyVoice UI or server, an ASR server,
 * any HTTP service of the routes file), modelled once whichever doors use it. It holds what
 * every door shares: its health (one check, one state), its job slots (one cap), its breaker,
 * its keep-alive connections and what it is.
 */
import { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { Logger } from "pino";
import type { BackendKind, BoxInfo, Codec, SynthesisBackend } from "../port.ts";
import type { BoxBreaker, BreakerState } from "../breaker/breaker.ts";
import type { JobSlots } from "../../service/caps/job-slots.ts";
import { Health, type BackendState } from "./health.ts";
import { httpProbe } from "./http-probe.ts";

/** What a box is: a synthesis server of a kind a driver speaks, an ASR server, or any HTTP service. */
export type BoxKind = BackendKind | "asr" | "http";

/** The doors that send a box work. */
export type Door = "rest" | "v1" | "jobs" | "passthrough" | "asr";

/** The doors the synthesis pool serves (`jobs` when narration jobs are on). */
export const POOL_DOORS: readonly Door[] = ["rest", "v1"];

/** Bound of one health check of a box no driver speaks for. @unit milliseconds */
const HTTP_PROBE_MS = 5_000;

/** One box as `/readyz` and `/metrics` show it (never its URL with credentials). */
export interface BoxStatus {
  name: string;
  /** Once named or checked. */
  kind?: BoxKind;
  /** The doors that send it work, e.g. `["rest", "v1", "passthrough"]`. */
  doors: Door[];
  state: BackendState;
  running: number;
  waiting: number;
  /** ISO 8601. */
  checkedAt?: string;
  /** While down: the stable code of its last failure (`connection`, ...). */
  error?: string;
  /** While down: what is wrong, in the box's own terms ("The speech-recognition service is unreachable"). */
  title?: string;
  breaker?: BreakerState;
}

/** What a box is made with. */
export interface BoxInit {
  /** The registry's key of its address (see `boxKey`). */
  key: string;
  name: string;
  /** Its address as first given (credentials kept for calls; shown only through `redactUrl`). */
  url: string;
  slots: JobSlots;
  logger: Logger;
  now: () => number;
}

/**
 * @example
 * const box = registry.add({ name: "backend-1", url: "http://gpu-1:7860", kind: "gradio" }, ["rest", "v1"]);
 * box.health.state; // "unknown" until its first check
 */
export class Box {
  readonly key: string;
  readonly url: string;
  readonly health: Health;
  /** The doors that send it work now; none: retired (running jobs finish, no new ones). */
  readonly doors = new Set<Door>();
  slots: JobSlots;
  breaker: BoxBreaker | undefined;
  /** The synthesis driver, once a pool door uses the box. */
  driver: SynthesisBackend | undefined;
  /** The kind its address or configuration named (else learned from its check). */
  declaredKind: BoxKind | undefined;
  /** The codec of its chunks, when known before any call. */
  codec: Codec["kind"] | undefined;
  /** The ASR client's check, once the ASR door uses the box. */
  asrProbe: (() => Promise<void>) | undefined;
  /** True once it answered as a Gradio app; false once as something else. */
  gradio: boolean | undefined;
  /** Passed over by the pool until then (its UI queue was full). @unit milliseconds since the epoch */
  coolUntil = 0;
  /** When it lost its last door. @unit milliseconds since the epoch */
  retiredAt = 0;
  /** Requests being proxied to it now. */
  open = 0;
  private keepAlive: Agent | undefined;

  constructor(init: BoxInit) {
    this.key = init.key;
    this.url = init.url;
    this.slots = init.slots;
    this.health = new Health(init.name, () => this.probe(), init.logger, init.url, init.now);
  }

  get name(): string {
    return this.health.name;
  }

  /** What it can do (modes, speakers, instruct form, rate, codec), once checked or used: a synthesis box only. */
  get capabilities(): BoxInfo | undefined {
    return this.health.info;
  }

  /** No door sends it new work. */
  get retired(): boolean {
    return this.doors.size === 0;
  }

  get kind(): BoxKind | undefined {
    if (this.health.info) return this.health.info.kind;
    if (this.declaredKind !== undefined) return this.declaredKind;
    if (this.gradio === true) return "gradio";
    if (this.gradio === false && this.driver === undefined) return "http";
    return undefined;
  }

  /** Keep-alive connections for proxying (see `doors/passthrough/forward.ts`). */
  get agent(): Agent {
    if (!this.keepAlive) {
      const Ctor = this.url.startsWith("https:") ? HttpsAgent : Agent;
      // A new TCP connection per proxied request would cost more than the proxying. An idle
      // connection is closed after 4 s, before uvicorn's own 5 s keep-alive timeout, so a request
      // is never written into a socket the server is closing.
      this.keepAlive = new Ctor({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 64, scheduling: "lifo", timeout: 4_000 });
    }
    return this.keepAlive;
  }

  /** Jobs running and waiting per slot (least-outstanding balancing). */
  get outstanding(): number {
    const { running, waiting } = this.slots.load;
    return (running + waiting) / this.slots.concurrency;
  }

  /** Nothing runs, waits or is proxied on it. */
  get idle(): boolean {
    const { running, waiting } = this.slots.load;
    return this.open === 0 && running + waiting === 0;
  }

  /** Checks the box now (single-flight). */
  check(): Promise<void> {
    return this.health.check();
  }

  /**
   * One check, whichever doors use the box: its driver's probe (what it is), else the ASR
   * client's, else an HTTP answer at `/config`.
   */
  private async probe(): Promise<BoxInfo | undefined> {
    if (this.driver) {
      const info = await this.driver.probe();
      this.gradio = info.kind === "gradio";
      return info;
    }
    if (this.asrProbe) {
      await this.asrProbe();
      this.gradio = false;
      return undefined;
    }
    this.gradio = (await httpProbe(this.url.replace(/\/+$/, ""), this.agent, HTTP_PROBE_MS)).gradio;
    return undefined;
  }

  /** Its state for `/readyz` and `/metrics`. */
  status(title: (kind: BoxKind | undefined, code: string) => string | undefined): BoxStatus {
    const kind = this.kind;
    const down = this.health.state === "down" && this.health.error !== undefined;
    const t = down ? title(kind, this.health.error as string) : undefined;
    return {
      name: this.name,
      ...(kind !== undefined ? { kind } : {}),
      doors: [...this.doors],
      state: this.health.state,
      ...this.slots.load,
      ...(this.health.checkedAt !== undefined ? { checkedAt: new Date(this.health.checkedAt).toISOString() } : {}),
      ...(down ? { error: this.health.error as string } : {}),
      ...(t !== undefined ? { title: t } : {}),
      ...(this.breaker ? { breaker: this.breaker.state } : {}),
    };
  }

  /** Closes its connections, driver, slots and breaker. */
  async close(): Promise<void> {
    this.keepAlive?.destroy();
    await this.driver?.close().catch(() => undefined);
    await this.slots.close?.().catch(() => undefined);
    await this.breaker?.close?.().catch(() => undefined);
  }
}
