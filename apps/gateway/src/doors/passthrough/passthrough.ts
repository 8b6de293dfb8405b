/**
 * The passthrough: every route of the routes file, served by proxying to its backends, with the
 * Gradio knowledge that makes a whole web UI work behind a path prefix and several boxes.
 *
 * - Public URL: Gradio builds every URL it hands out (the page's `root`, `file=` and `stream/`
 *   outputs) from `X-Forwarded-Host` and `X-Forwarded-Proto` only, and reads no prefix header.
 *   It parses `http://<X-Forwarded-Host>` as a URL, so the gateway sends the public host with
 *   the route's path after it (`gw.example:5000/cosyvoice`): the UI needs no `root_path`.
 * - Affinity: each request is routed by what it carries (session hash, upload id, server path,
 *   event id) to the box that holds it; new sessions spread by the route's balancer.
 * - Limits: only requests that start work count; joins take a job slot of their box (the REST
 *   API's slots when the box is also its backend), and past the cap the join is refused the way
 *   Gradio refuses it.
 */
import type { NextFunction, Request, RequestHandler, Response, Router } from "express";
import type { Store } from "express-rate-limit";
import type { Logger } from "pino";
import { HttpProblem } from "../problems.ts";
import type { CompiledRoute, RoutesConfig } from "../../platform/routes-file/load.ts";
import type { BackendKind } from "../../backends/port.ts";
import { BoxRegistry, boxTitle } from "../../backends/registry/index.ts";
import { Affinity } from "./affinity.ts";
import { PassthroughBoxes, type PassthroughBackend } from "./backends.ts";
import { pickBackend, type Turn } from "./balancer.ts";
import { forward, type ForwardOptions } from "./forward.ts";
import { classifyGradio, readGradioBody, type GradioRequest } from "./gradio-paths.ts";
import { PassthroughJobs } from "./jobs.ts";
import { RouteLimits } from "./limits.ts";
import { copyUpload, renamePaths } from "./migrate.ts";
import { gradioEvents, jsonBody } from "./observe.ts";
import { passthroughAuth, withoutSessionCookie } from "./sign-in.ts";
import { hasDotSegments, RouteTable } from "./table.ts";

/** Options of {@link Passthrough}. */
export interface PassthroughOptions {
  logger: Logger;
  /** API keys; empty: the passthrough is open. */
  apiKeys: readonly string[];
  /** Whether X-Forwarded-* from the client are believed (TRUST_PROXY); they are replaced otherwise. */
  trustProxy: boolean;
  /** Cap of a request body unless the route sets its own. @unit bytes */
  maxUploadBytes: number;
  /**
   * The registry of boxes (shared with the synthesis pool and the ASR client: a box both use is
   * one entry, one health check, one cap). @default one of its own, 2 slots and 2 waiting per
   * box, checked every 10 s
   */
  registry?: BoxRegistry;
  /** Rate-limit counters by name, e.g. in Redis. */
  rateLimitStore?: (name: string) => Store;
}

/** Largest join/call/cancel body read to route it. @unit bytes */
const MAX_GRADIO_JSON = 1024 * 1024;
/** Gradio sends a heartbeat every 15 s; a stream silent for three is dead. @unit milliseconds */
const MIN_STREAM_IDLE_MS = 45_000;

/**
 * Python's `gradio_client` up to 1.4.x joins the config's `api_prefix` (`/gradio_api`, with its
 * leading slash) to the URL it was given with `urljoin`, which drops the path: a client of
 * `https://gw/cosyvoice/` calls `https://gw/gradio_api/...` (fixed in gradio PR #10017). For that
 * client only, the config's `api_prefix` is given without the slash, which every version joins
 * below the prefix. Browsers and `@gradio/client` get the config untouched.
 */
const PYTHON_CLIENT = /(^|[\s;])gradio_client\//;
function relativeApiPrefix(body: Buffer): Buffer {
  const config = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
  if (typeof config["api_prefix"] !== "string" || !config["api_prefix"].startsWith("/")) return body;
  config["api_prefix"] = config["api_prefix"].replace(/^\/+/, "");
  return Buffer.from(JSON.stringify(config));
}

const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Headers a client may not set for the backend: the gateway states them itself. */
const FORWARDED = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "x-forwarded-prefix", "x-real-ip"];

/**
 * @example
 * const passthrough = new Passthrough({ logger, apiKeys: [], trustProxy: false, maxUploadBytes: 10 << 20 });
 * passthrough.install(parseRoutesFile(text));
 * app.use(passthrough.signIn);
 * app.use(passthrough.handler);
 */
export class Passthrough {
  readonly registry: PassthroughBoxes;
  readonly affinity = new Affinity();
  readonly jobs: PassthroughJobs;
  private readonly limits: RouteLimits;
  private readonly turns = new Map<string, Turn>();
  private table = new RouteTable([]);
  private readonly auth: ReturnType<typeof passthroughAuth>;
  private readonly logger: Logger;

  constructor(private readonly opts: PassthroughOptions) {
    this.logger = opts.logger.child({ component: "passthrough" });
    this.registry = new PassthroughBoxes(opts.registry ?? new BoxRegistry({ logger: this.logger, healthCheckIntervalMs: 10_000 }));
    this.jobs = new PassthroughJobs({ logger: this.logger });
    this.limits = new RouteLimits({ logger: this.logger, ...(opts.rateLimitStore ? { store: opts.rateLimitStore } : {}) });
    this.auth = passthroughAuth({ keys: opts.apiKeys });
  }

  /** The sign-in pages (`/sign-in`, `/sign-out`); mounted only when keys are configured. */
  get signIn(): Router {
    return this.auth.routes;
  }

  /** The routes in force. */
  get routes(): readonly CompiledRoute[] {
    return this.table.routes;
  }

  /** Installs a configuration: new backends are added, removed ones retire, requests in flight keep theirs. */
  install(config: RoutesConfig): void {
    const seen = new Map<string, { name: string; url: string; kind?: BackendKind }>();
    for (const r of config.routes) for (const b of r.backends) if (!seen.has(b.url)) seen.set(b.url, { name: b.name, url: b.url, ...(b.kind !== undefined ? { kind: b.kind } : {}) });
    this.registry.sync([...seen.values()]);
    this.limits.install(config.routes);
    this.table = new RouteTable(config.routes);
  }

  /** Starts the boxes' periodic health check (the registry's: one per box, whichever doors use it). */
  start(): void {
    this.registry.registry.start();
  }

  /** Lets go of its jobs' slots; the boxes are the registry's, closed with it. */
  close(): void {
    this.jobs.close();
  }

  /** The request handler: answers requests under a route's path, passes the rest on. */
  readonly handler: RequestHandler = (req, res, next) => this.dispatch(req, res, next, "all");

  /**
   * Mounted before the gateway's own routes and its request log: a route's path wins over the
   * gateway's paths, and proxied requests are logged by the passthrough itself (one line when
   * info is enabled) rather than by pino-http, which serializes every request's headers into a
   * child logger whether or not it logs. A route at `/` (a catch-all) is left to {@link late}.
   */
  readonly early: RequestHandler = (req, res, next) => this.dispatch(req, res, next, "early");

  /** Mounted after the gateway's own routes: a catch-all route at `/`, and Gradio's stray asset requests. */
  readonly late: RequestHandler = (req, res, next) => this.dispatch(req, res, next, "late");

  private dispatch(req: Request, res: Response, next: NextFunction, when: "early" | "late" | "all"): void {
    const table = this.table;
    const m = table.match(req.url);
    if (!m) return when === "early" ? next() : this.strayAsset(table, req, res, next);
    const catchAll = m.route.path === "/";
    if ((when === "early" && catchAll) || (when === "late" && !catchAll)) return next();
    if (when === "early") this.accessLog(req, res, m.route);
    if (m.redirect) return void res.redirect(req.method === "GET" || req.method === "HEAD" ? 301 : 308, m.location);
    this.handle(m.route, m.rest, m.upstream, req, res).catch(next);
  }

  private accessLog(req: Request, res: Response, route: CompiledRoute): void {
    const started = Date.now();
    res.once("close", () => {
      const status = res.statusCode;
      const level = !res.writableFinished || status >= 500 ? "warn" : "info";
      if (!this.logger.isLevelEnabled(level)) return;
      this.logger[level](
        { requestId: res.locals.requestId, method: req.method, path: req.path, status, ms: Date.now() - started, route: route.name, complete: res.writableFinished },
        "passthrough request",
      );
    });
  }

  /**
   * The Gradio frontend loads its stylesheet a second time from `new URL("./assets/...", root)`,
   * and `root` has no trailing slash, so under a prefix that request leaves it
   * (`/assets/x.css`). A GET that no route claims, sent by a page under a Gradio route of this
   * origin (its Referer), is sent back under that route.
   */
  private strayAsset(table: RouteTable, req: Request, res: Response, next: NextFunction): void {
    const referer = req.get("referer");
    if ((req.method !== "GET" && req.method !== "HEAD") || !referer) return next();
    let from: URL;
    try {
      from = new URL(referer);
    } catch {
      return next();
    }
    if (from.host !== req.host) return next();
    const m = table.match(from.pathname);
    if (!m || m.redirect || m.route.match !== "prefix" || m.route.kind === "http") return next();
    if (!this.candidates(m.route).some((b) => b.gradio === true)) return next();
    res.redirect(307, m.route.path + req.url.replace(/^\/+/, ""));
  }

  private async handle(route: CompiledRoute, rest: string, upstream: string, req: Request, res: Response): Promise<void> {
    if (route.methods && !route.methods.includes(req.method)) {
      throw new HttpProblem("method_not_allowed", { detail: `${req.method} is not allowed on ${route.path}`, headers: { Allow: route.methods.join(", ") } });
    }
    if (hasDotSegments(rest)) throw new HttpProblem("invalid_request", { detail: "The path has . or .. segments" });
    if (route.auth) await run(this.auth.check, req, res);
    if (res.headersSent) return;

    const gradio = (await this.kindOf(route)) === "gradio";
    const q = rest.indexOf("?");
    const g = gradio ? classifyGradio(req.method, q < 0 ? rest : rest.slice(0, q), new URLSearchParams(q < 0 ? "" : rest.slice(q + 1))) : undefined;
    if (g === undefined || g.work) {
      const limiter = this.limits.for(route);
      if (limiter) await run(limiter, req, res);
    }

    const maxBodyBytes = route.maxUploadBytes ?? this.opts.maxUploadBytes;
    const declared = Number(req.get("content-length") ?? "0");
    if (declared > maxBodyBytes) {
      res.setHeader("Connection", "close");
      throw new HttpProblem("payload_too_large", { detail: `The body is larger than ${maxBodyBytes} bytes` });
    }
    const ctx: Ctx = { route, req, res, upstream, maxBodyBytes, apiBase: route.upstreamPath + (rest.startsWith("gradio_api/") ? "gradio_api/" : "") };
    if (g) await this.gradioRequest(ctx, g);
    else await this.exchange(ctx, this.pick(route), {});
  }

  /** Gradio or plain HTTP: from the route, or for `auto` from the backends' `/config`. */
  private async kindOf(route: CompiledRoute): Promise<"gradio" | "http"> {
    if (route.kind !== "auto") return route.kind;
    const known = () => {
      const bs = route.backends.map((b) => this.registry.get(b.url)).filter((b) => b !== undefined);
      if (bs.some((b) => b.gradio === true)) return "gradio" as const;
      if (bs.length > 0 && bs.every((b) => b.gradio === false)) return "http" as const;
      return bs;
    };
    const k = known();
    if (typeof k === "string") return k;
    // Not known yet (the first check is running or the boxes are down): wait a little for one.
    await Promise.race([Promise.any(k.map((b) => b.check())), new Promise((r) => setTimeout(r, 3_000).unref())]).catch(() => undefined);
    const again = known();
    return typeof again === "string" ? again : "http";
  }

  private candidates(route: CompiledRoute): PassthroughBackend[] {
    return route.backends.map((b) => this.registry.get(b.url)).filter((b): b is PassthroughBackend => b !== undefined);
  }

  private pick(route: CompiledRoute): PassthroughBackend {
    let turn = this.turns.get(route.name);
    if (!turn) this.turns.set(route.name, (turn = { next: 0 }));
    const b = pickBackend(route.balancer, this.candidates(route), turn);
    if (!b) throw new HttpProblem("connection", { detail: "The route has no backend" });
    return b;
  }

  /** The box a remembered URL names, if it may still serve this route's sessions (retired boxes drain). */
  private bound(route: CompiledRoute, url: string | undefined): PassthroughBackend | undefined {
    if (url === undefined) return undefined;
    const b = this.registry.get(url);
    if (!b || b.health === "down") return undefined;
    return b.retired || route.backends.some((x) => x.url === url) ? b : undefined;
  }

  private async gradioRequest(ctx: Ctx, g: GradioRequest): Promise<void> {
    const { route } = ctx;
    const a = this.affinity;
    switch (g.kind) {
      case "join":
      case "call":
      case "run":
      case "cancel":
        return this.bodyRequest(ctx, g);
      case "heartbeat":
      case "queue-data": {
        const session = g.sessionHash;
        const backend = this.bound(route, session && a.sessions.get(session)) ?? this.pick(route);
        if (session) a.sessions.set(session, backend.url);
        if (g.kind === "heartbeat") return this.exchange(ctx, backend, {});
        return this.queueStream(ctx, backend, session);
      }
      case "stream":
        return this.exchange(ctx, this.bound(route, g.sessionHash && a.sessions.get(g.sessionHash)) ?? this.pick(route), {});
      case "upload":
      case "upload-progress": {
        const id = g.uploadId;
        const backend = this.bound(route, id && a.uploads.get(id)) ?? this.pick(route);
        if (id) a.uploads.set(id, backend.url);
        if (g.kind === "upload-progress") return this.exchange(ctx, backend, {});
        return this.exchange(ctx, backend, {
          onResponse: (status) => {
            if (status !== 200) return undefined;
            return jsonBody(64 * 1024, (paths) => {
              if (Array.isArray(paths)) for (const p of paths) if (typeof p === "string") a.files.set(p, backend.url);
            });
          },
        });
      }
      case "file": {
        const known = this.bound(route, g.filePath && a.files.get(g.filePath));
        return this.exchange(ctx, known ?? (await this.findFile(ctx, g.filePath)), {});
      }
      case "call-stream": {
        const backend = this.bound(route, g.eventId && a.events.get(g.eventId)) ?? this.pick(route);
        return this.callStream(ctx, backend, g.eventId);
      }
      case "event-input":
        return this.exchange(ctx, this.bound(route, g.eventId && a.events.get(g.eventId)) ?? this.pick(route), {});
      case "other":
        if (ctx.req.method === "GET" && /^config\/?(\?|$)/.test(ctx.upstream.slice(route.upstreamPath.length)) && PYTHON_CLIENT.test(ctx.req.get("user-agent") ?? "")) {
          return this.exchange(ctx, this.pick(route), { rewrite: relativeApiPrefix, retryElsewhere: true });
        }
        return this.exchange(ctx, this.pick(route), { retryElsewhere: true });
    }
  }

  /** A file= path nobody told us about: the box that has it (asked with HEAD), else any. */
  private async findFile(ctx: Ctx, path: string | undefined): Promise<PassthroughBackend> {
    const usable = this.candidates(ctx.route).filter((b) => b.usable);
    if (path === undefined || usable.length < 2) return this.pick(ctx.route);
    for (const b of usable) {
      try {
        const r = await fetch(`${b.url}${ctx.apiBase}file=${encodeURIComponent(path).replace(/%2F/g, "/")}`, { method: "HEAD", signal: AbortSignal.timeout(2_000) });
        if (r.ok) {
          this.affinity.files.set(path, b.url);
          return b;
        }
      } catch {
        // try the next box
      }
    }
    return this.pick(ctx.route);
  }

  /** join, call, run, cancel: the small JSON body names the session and the files. */
  private async bodyRequest(ctx: Ctx, g: GradioRequest): Promise<void> {
    const { route, req } = ctx;
    const a = this.affinity;
    const raw = await readBody(req, MAX_GRADIO_JSON);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString("utf8"));
    } catch {
      // Not JSON: Gradio will say what is wrong with it.
      return this.exchange(ctx, this.pick(route), { body: raw });
    }
    const facts = readGradioBody(parsed);
    const session = facts.sessionHash;
    let backend = this.bound(route, session && a.sessions.get(session));
    if (g.kind === "cancel") return this.exchange(ctx, backend ?? this.pick(route), { body: raw });

    const files = facts.files.filter((p) => a.files.get(p) !== undefined);
    if (!backend) {
      const at = a.filesBackend(files);
      backend = this.bound(route, at.url ?? (files[0] !== undefined ? a.files.get(files[0]) : undefined)) ?? this.pick(route);
    }
    let body = raw;
    const away = files.filter((p) => a.files.get(p) !== backend.url);
    if (away.length > 0) body = await this.moveFiles(ctx, backend, away, parsed, raw);
    if (session) a.sessions.set(session, backend.url);

    // A job takes a slot of its box, shared with the REST API's jobs on that box.
    const release = this.takeSlot(ctx, backend);
    if (!release) return;
    let handedOver = false;
    await this.exchange(ctx, backend, {
      body,
      onResponse: (status) => {
        if (status !== 200 || g.kind === "run") return undefined;
        return jsonBody(64 * 1024, (v) => {
          const eventId = (v as { event_id?: unknown } | null)?.event_id;
          if (typeof eventId !== "string") return;
          a.events.set(eventId, backend.url);
          this.jobs.started({ eventId, session, backend: backend.url, release });
          handedOver = true;
        });
      },
    });
    // A run holds its slot for the request; a join or call whose answer named no event is over.
    if (!handedOver) release();
  }

  /** Copies files uploaded to other boxes to the session's box; returns the body to send. */
  private async moveFiles(ctx: Ctx, to: PassthroughBackend, paths: string[], parsed: unknown, raw: Buffer): Promise<Buffer> {
    const renames = new Map<string, string>();
    const signal = AbortSignal.any([abortOnClose(ctx.res), AbortSignal.timeout(ctx.route.timeoutMs)]);
    for (const p of paths) {
      const from = this.registry.get(this.affinity.files.get(p) ?? "");
      if (!from) continue;
      try {
        const moved = await copyUpload(from, to, p, ctx.apiBase, { signal, maxBytes: ctx.maxBodyBytes });
        this.affinity.files.set(moved, to.url);
        if (moved !== p) renames.set(p, moved);
        this.logger.debug({ from: from.name, to: to.name, same: moved === p }, "upload copied to the session's backend");
      } catch (err) {
        this.logger.warn({ from: from.name, to: to.name, err }, "could not copy an upload to the session's backend");
      }
    }
    if (renames.size === 0) return raw;
    renamePaths(parsed, renames);
    return Buffer.from(JSON.stringify(parsed));
  }

  /**
   * A place among `backend`'s jobs, or a Gradio-shaped 503 when its cap (running + waiting) is
   * reached (then undefined). The join is never held: Gradio queues it itself, and the place it
   * takes in the shared slots (a running slot, else one in the wait list that turns into a
   * running one when its turn comes) keeps the REST API's jobs and the passthrough's under one
   * cap, below the size of the UI's own queue. Holding the join instead would time out Python's
   * `gradio_client`, which waits 5 s for it.
   */
  private takeSlot(ctx: Ctx, backend: PassthroughBackend): (() => void) | undefined {
    const slots = backend.slots;
    if (!slots.hasRoom) {
      const retry = slots.retryAfterSeconds();
      this.logger.debug({ backend: backend.name, ...slots.load }, "passthrough join refused: the backend's job cap is reached");
      // Gradio's own answer to a full queue, which its clients (browser, gradio_client) understand.
      ctx.res
        .status(503)
        .setHeader("Retry-After", String(retry))
        .json({ detail: `Queue is full. The job cap of this backend is reached; retry in ${retry} s.` });
      return undefined;
    }
    const ac = new AbortController();
    let release: (() => void) | undefined;
    let over = false;
    // Takes its place now (synchronously): a running slot, or one in the wait list.
    slots.acquire(ac.signal).then(
      (r) => (over ? r() : (release = r)),
      () => undefined,
    );
    return () => {
      if (over) return;
      over = true;
      if (release) release();
      else ac.abort();
    };
  }

  /** queue/data: follows the session's job messages to free slots and learn output files. */
  private async queueStream(ctx: Ctx, backend: PassthroughBackend, session: string | undefined): Promise<void> {
    const watch = this.jobs.watch();
    await this.exchange(ctx, backend, {
      onResponse: (status, headers) => {
        if (status !== 200 || !String(headers["content-type"] ?? "").startsWith("text/event-stream")) return undefined;
        return {
          chunk: gradioEvents((m) => {
            if (m.eventId) this.jobs.seen(m.eventId, watch);
            for (const f of m.files) this.affinity.files.set(f, backend.url);
            if (m.msg === "process_completed" && m.eventId) this.jobs.completed(m.eventId);
          }),
        };
      },
    });
    this.jobs.streamEnded(session, backend.url, watch);
  }

  /** GET call/<api>/<event_id>: the one job's stream; it ends with `complete` or `error`. */
  private async callStream(ctx: Ctx, backend: PassthroughBackend, eventId: string | undefined): Promise<void> {
    const watch = this.jobs.watch();
    if (eventId) this.jobs.seen(eventId, watch);
    await this.exchange(ctx, backend, {
      onResponse: (status) => {
        if (status !== 200) return undefined;
        return {
          chunk: gradioEvents((m) => {
            for (const f of m.files) this.affinity.files.set(f, backend.url);
            if ((m.msg === "complete" || m.msg === "error") && eventId) this.jobs.completed(eventId);
          }),
        };
      },
    });
    if (eventId) this.jobs.completed(eventId);
  }

  /**
   * Proxies to `backend` with the forwarded headers; a failure before any byte is answered as a
   * problem. `retryElsewhere`: a bodyless request tied to no box (the page, its assets, config)
   * that found its box refusing connections is tried once on another usable box.
   */
  private async exchange(
    ctx: Ctx,
    backend: PassthroughBackend,
    extra: Pick<ForwardOptions, "body" | "onResponse" | "rewrite"> & { retryElsewhere?: boolean },
  ): Promise<void> {
    const { route, req, res } = ctx;
    const { retryElsewhere, ...forwardExtra } = extra;
    // Read before forwarding: forward() drops Transfer-Encoding (hop-by-hop) from the headers.
    const bodyless = req.get("content-length") === undefined && req.get("transfer-encoding") === undefined;
    const out = await forward(req, res, {
      backend,
      path: ctx.upstream,
      headers: this.forwardedHeaders(ctx, backend),
      maxBodyBytes: ctx.maxBodyBytes,
      timeoutMs: route.timeoutMs,
      streamIdleMs: Math.max(route.timeoutMs, MIN_STREAM_IDLE_MS),
      rewriteLocation: (l) => rewriteLocation(l, backend.url, route),
      logger: this.logger,
      ...forwardExtra,
    });
    if (retryElsewhere && out.problem?.code === "connection" && out.status === undefined && backend.health === "down" && bodyless && !res.headersSent && !res.destroyed) {
      const other = this.candidates(route).find((b) => b !== backend && b.usable);
      if (other) {
        this.logger.debug({ from: backend.name, to: other.name }, "passthrough: box refused; trying another");
        return this.exchange(ctx, other, forwardExtra);
      }
    }
    if (out.problem && !res.headersSent && !res.destroyed) {
      if (out.problem.code === "payload_too_large") res.setHeader("Connection", "close");
      // The title names the box's service (the article's /asr is no CosyVoice box); a box no
      // door knows the kind of is named by its route.
      if (out.problem.code === "connection") {
        const { detail, cause } = out.problem;
        const kind = backend.box.kind;
        const title = kind === undefined || kind === "http" ? `The ${route.name} backend is unreachable` : boxTitle(kind, "unreachable");
        throw new HttpProblem("connection", { ...(detail !== undefined ? { detail } : {}), cause, title });
      }
      throw out.problem;
    }
  }

  private forwardedHeaders(ctx: Ctx, backend: PassthroughBackend): Record<string, string> {
    const { req, route } = ctx;
    const headers = req.headers as Record<string, unknown>;
    const priorFor = this.opts.trustProxy ? req.get("x-forwarded-for") : undefined;
    for (const h of FORWARDED) if (h in headers) delete headers[h];
    // The gateway's key is for the gateway: the backend never sees it, nor the sign-in cookie.
    if (this.opts.apiKeys.length > 0 && route.auth && "authorization" in headers) delete headers["authorization"];
    if ("cookie" in headers) {
      const cookie = withoutSessionCookie(req.get("cookie"));
      if (cookie === undefined) delete headers["cookie"];
      else headers["cookie"] = cookie;
    }
    const host = req.host;
    if (!HOST.test(host)) throw new HttpProblem("invalid_request", { detail: "The Host header is not a host name" });
    const prefix = route.match === "prefix" ? route.path.replace(/\/$/, "") : "";
    const peer = req.socket.remoteAddress ?? "";
    const gradio = backend.gradio !== false && route.kind !== "http";
    return {
      "x-forwarded-for": priorFor ? `${priorFor}, ${peer}` : peer,
      "x-forwarded-proto": req.protocol,
      // Gradio reads no prefix header: the prefix rides in the host (see the file's comment).
      "x-forwarded-host": gradio ? host + prefix : host,
      "x-forwarded-prefix": prefix === "" ? "/" : prefix,
      "x-request-id": String(ctx.res.locals.requestId ?? ""),
    };
  }
}

interface Ctx {
  route: CompiledRoute;
  req: Request;
  res: Response;
  /** Upstream path and query. */
  upstream: string;
  maxBodyBytes: number;
  /** Upstream path of Gradio's API (`/gradio_api/` on gradio 5, `/` before). */
  apiBase: string;
}

/** Runs an Express middleware as a step; rejects with what it passed to next(err). */
function run(mw: (req: Request, res: Response, next: NextFunction) => unknown, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    let called = false;
    const next = (err?: unknown) => {
      called = true;
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve();
    };
    Promise.resolve(mw(req, res, next)).then(
      () => {
        // A middleware that answered (a redirect) without calling next.
        if (!called && res.headersSent) resolve();
      },
      reject,
    );
  });
}

function readBody(req: Request, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners("data");
        req.resume();
        return reject(new HttpProblem("payload_too_large", { detail: `A Gradio API body is at most ${max} bytes` }));
      }
      parts.push(c);
    });
    req.once("end", () => resolve(Buffer.concat(parts)));
    req.once("error", reject);
  });
}

function abortOnClose(res: Response): AbortSignal {
  const ac = new AbortController();
  res.once("close", () => ac.abort(new Error("client closed")));
  return ac.signal;
}

/** An upstream redirect into the gateway's URL space (never the backend's address). */
function rewriteLocation(location: string, backendUrl: string, route: CompiledRoute): string {
  let path = location;
  if (location.startsWith(backendUrl)) path = location.slice(backendUrl.length) || "/";
  else if (/^[a-z][a-z0-9+.-]*:/i.test(location) || location.startsWith("//")) return location;
  if (!path.startsWith("/")) return location;
  if (route.match === "prefix" && path.startsWith(route.upstreamPath)) return route.path + path.slice(route.upstreamPath.length);
  return path;
}
