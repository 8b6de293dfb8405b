/**
 * The passthrough's boxes are the registry's (`backends/registry/`): health, job slots, open
 * requests, keep-alive connections and retirement live on the {@link Box}, shared with the
 * synthesis pool and the ASR client when they use the same box. What the passthrough adds is
 * only the address a route gives the box (a route may name a path below it), as a
 * {@link PassthroughBackend}: a view, no state of its own.
 */
import { ConnectionError } from "cosyvoice3-sdk";
import type { Logger } from "pino";
import type { JobSlots } from "../../service/caps/job-slots.ts";
import type { Box, BoxRegistry } from "../../backends/registry/index.ts";

/** What the registry knows of one backend. */
export type BackendHealth = "unknown" | "up" | "down";

/** One box as a route reaches it: the route's URL for it, everything else the box's. */
export class PassthroughBackend {
  constructor(
    /** Base URL without a trailing slash, as the route names it. */
    readonly url: string,
    readonly box: Box,
  ) {}
  get name(): string {
    return this.box.name;
  }
  get health(): BackendHealth {
    return this.box.health.state;
  }
  /** True once `/config` answered as a Gradio app; false once it answered as something else. */
  get gradio(): boolean | undefined {
    return this.box.gradio;
  }
  /** Requests being proxied to it now. */
  get open(): number {
    return this.box.open;
  }
  set open(n: number) {
    this.box.open = n;
  }
  get slots(): JobSlots {
    return this.box.slots;
  }
  get agent(): Box["agent"] {
    return this.box.agent;
  }
  /** No route lists it any more: no new sessions (sessions on it may finish). */
  get retired(): boolean {
    return !this.box.doors.has("passthrough");
  }
  /** May take new sessions. */
  get usable(): boolean {
    return !this.retired && this.health !== "down";
  }
  /** Outstanding jobs per slot, for the least-outstanding balancer. */
  get outstanding(): number {
    return this.box.outstanding;
  }
  /** Runs the box's one check unless one is running. */
  check(): Promise<void> {
    return this.box.check();
  }
  markUp(_logger: Logger, why: string): void {
    this.box.health.markUp(why);
  }
  /** @param error the socket's code (`ECONNREFUSED`, ...) */
  markDown(_logger: Logger, error: string, why: string): void {
    this.box.health.markDown(new ConnectionError(error, { accepted: false }), why);
  }
}

/**
 * The routes' boxes, by the URL each route gives: a lookup into the registry.
 * @example
 * const boxes = new PassthroughBoxes(registry);
 * boxes.sync([{ name: "gpu-1", url: "http://gpu-1:7860" }]);
 * boxes.get("http://gpu-1:7860")?.usable;
 */
export class PassthroughBoxes {
  private readonly views = new Map<string, PassthroughBackend>();
  constructor(readonly registry: BoxRegistry) {}

  /** The box a route's URL names, while the registry knows it (retired ones too: their sessions drain). */
  get(url: string): PassthroughBackend | undefined {
    const box = this.registry.get(url);
    if (!box) {
      this.views.delete(url);
      return undefined;
    }
    let view = this.views.get(url);
    if (!view || view.box !== box) this.views.set(url, (view = new PassthroughBackend(url, box)));
    return view;
  }

  /** Makes the passthrough use exactly these boxes: new ones are checked at once, left-out ones retire. */
  sync(backends: readonly { name: string; url: string; kind?: Box["declaredKind"] }[]): void {
    this.registry.sync(["passthrough"], backends);
  }
}
