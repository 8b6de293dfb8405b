/**
 * Starting and stopping a gateway process: the stores (disk or Redis), the pool of SDK backends,
 * the HTTP server, and a graceful stop (stop accepting, let running jobs finish up to a
 * deadline, cancel the rest).
 */
import { setMaxListeners } from "node:events";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import { createApp } from "./app.ts";
import { clientErrorHandler } from "./platform/http/client-error.ts";
import type { SynthesisBackend } from "./backends/port.ts";
import type { GatewayConfig } from "./platform/config.ts";
import { backendAddress } from "./backends/address.ts";
import { BackendPool, backendPoolFor } from "./backends/pool/index.ts";
import { redactUrl } from "./backends/registry/index.ts";
import { Slots } from "./service/caps/slots.ts";
import { openStores } from "./platform/stores/open.ts";
import { openCache } from "./service/cache/index.ts";
import { Passthrough } from "./doors/passthrough/passthrough.ts";
import type { CompiledRoute, RoutesConfig } from "./platform/routes-file/load.ts";
import { watchRoutesFile, type RoutesFileWatcher } from "./platform/routes-file/watch.ts";
import { createJobs, openJobParts, type Jobs } from "./jobs/open.ts";

/** A listening gateway. */
export interface RunningGateway {
  server: Server;
  /** The bound port (useful with port 0). */
  port: number;
  url: string;
  /** The backends (state, load) behind this gateway. */
  pool: BackendPool;
  /** The routes file's passthrough, when ROUTES_FILE is set. */
  passthrough?: Passthrough;
  /** The watched routes file, when ROUTES_FILE is set. */
  routes?: RoutesFileWatcher;
  /** Graceful stop; resolves when everything is closed. */
  stop(): Promise<void>;
}

/**
 * Node's timeouts for receiving a request. They must be given when the server is created:
 * Node reads `connectionsCheckingInterval` only then, and its default (30 s) lets a stalled
 * upload outlive a short request timeout by up to that much. The headers' own timeout may not
 * exceed the request's (Node refuses it).
 * @example createServer(serverTimeouts(120_000), app)
 */
export function serverTimeouts(requestTimeoutMs: number): { requestTimeout: number; headersTimeout: number; connectionsCheckingInterval: number } {
  return {
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(60_000, requestTimeoutMs),
    connectionsCheckingInterval: Math.min(1_000, Math.ceil(requestTimeoutMs / 4)),
  };
}

/** How long a stop waits for answers still being written once every job is over. @unit milliseconds */
const ANSWER_FLUSH_MS = 2_000;

/** Counts the responses not yet closed, so a stop can wait for the last ones to go out. */
function inFlightAnswers(server: Server): { settled(maxMs: number): Promise<void> } {
  let open = 0;
  let waiters: (() => void)[] = [];
  server.on("request", (_req, res: ServerResponse) => {
    open++;
    res.once("close", () => {
      if (--open > 0) return;
      const w = waiters;
      waiters = [];
      w.forEach((f) => f());
    });
  });
  return {
    settled(maxMs) {
      if (open === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, maxMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/**
 * Opens the stores, builds the app and listens.
 * @example
 * const gw = await startGateway(loadConfig(process.env), pino());
 * process.once("SIGTERM", () => void gw.stop());
 */
export async function startGateway(
  config: GatewayConfig,
  logger: Logger,
  options: { backend?: SynthesisBackend } = {},
): Promise<RunningGateway> {
  // The routes file is read first: a broken file stops the start, before anything is opened.
  let passthrough: Passthrough | undefined;
  let routes: RoutesFileWatcher | undefined;
  // The pool is built once the file is read; a reload before that has nothing to change.
  const built: { pool?: BackendPool } = {};
  if (config.routesFile) {
    routes = watchRoutesFile(config.routesFile, {
      logger,
      // Both doors take the new boxes live: the synthesis pool first (a box new to both is
      // named `backend-<n>`), then the passthrough.
      onChange: (next) => {
        if (built.pool) syncSynthesisBoxes(config, next, built.pool, logger);
        passthrough?.install(next);
      },
    });
  }
  let synthesisRoute: CompiledRoute | undefined;
  let stores: Awaited<ReturnType<typeof openStores>>;
  try {
    synthesisRoute = routes ? synthesisRouteOf(config, routes.current()) : undefined;
    stores = await openStores(config, logger);
  } catch (err) {
    routes?.close();
    throw err;
  }
  const cache = await openCache(config, logger, stores.redis);
  const given = options.backend;
  const pool =
    given instanceof BackendPool
      ? given
      : given
        ? BackendPool.single(given, new Slots({ concurrency: config.concurrency, queueSize: config.queueSize }), logger)
        : backendPoolFor(synthesisRoute ? { ...config, cosyvoiceUrls: synthesisRoute.backends.map((b) => backendAddress(b.url, b.kind)) } : config, logger, { redis: stores.redis });
  built.pool = pool;
  pool.start();
  if (routes) {
    passthrough = new Passthrough({
      logger,
      apiKeys: config.apiKeys,
      trustProxy: config.trustProxy !== false,
      maxUploadBytes: config.maxUploadBytes,
      // One registry of boxes: a box that is also the REST API's backend is one entry, with one
      // health check and one cap.
      registry: pool.registry,
      ...(stores.rateLimitStore ? { rateLimitStore: stores.rateLimitStore } : {}),
    });
    passthrough.install(routes.current());
    passthrough.start();
  }
  const shutdown = new AbortController();
  // Every job in flight (running or waiting for a slot) listens to it, and lets go when it ends
  // (test/openai-long-streams-leave-no-abort-listeners.test.ts): many listeners here is load,
  // not a leak, so Node's warning past 10 would be noise.
  setMaxListeners(0, shutdown.signal);
  const jobParts = await openJobParts(config, logger, stores.redis);
  let jobs: Jobs | undefined;
  const app = createApp(config, {
    jobs: (parts) => (jobs = createJobs(config, jobParts, parts)).service,
    backend: pool,
    voices: stores.voices,
    audio: stores.audio,
    consents: stores.consents,
    ...(stores.rateLimitStore ? { rateLimitStore: stores.rateLimitStore } : {}),
    ...(cache ? { cache } : {}),
    ...(passthrough ? { passthrough } : {}),
    ...(stores.ping ? { sharedStore: { ping: stores.ping } } : {}),
    logger,
    shutdown: shutdown.signal,
  });

  const server = createServer(serverTimeouts(config.requestTimeoutMs), app);
  const answers = inFlightAnswers(server);
  server.on("clientError", clientErrorHandler({ logger }));
  server.listen(config.port, config.host);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
  } catch (err) {
    routes?.close();
    passthrough?.close();
    await jobs?.close();
    await pool.close();
    await cache?.close();
    await stores.close();
    throw err;
  }
  // Unfinished jobs are taken up once the gateway answers (their segments need the pool).
  await jobs?.start();
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  logger.info({ port, host: config.host, backends: shownEndpoints(pool), store: stores.kind, ...(stores.kind === "disk" ? { dataDir: config.dataDir } : {}) }, "gateway listening");

  let stopping: Promise<void> | undefined;
  async function stop(): Promise<void> {
    stopping ??= (async () => {
      logger.info({ graceMs: config.shutdownGraceMs, ...pool.load }, "shutting down: no new connections");
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Running jobs stop where they stand (each finished segment is kept) and resume later.
      await jobs?.close();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), config.shutdownGraceMs);
      });
      if ((await Promise.race([pool.idle().then(() => "idle" as const), grace])) === "timeout") {
        logger.warn(pool.load, "grace period over: cancelling the remaining jobs");
        shutdown.abort();
      }
      clearTimeout(timer);
      await pool.idle();
      // A job frees its slot just before its answer is written: let those answers go out.
      await answers.settled(ANSWER_FLUSH_MS);
      server.closeAllConnections();
      await closed;
      routes?.close();
      passthrough?.close();
      await pool.close();
      await cache?.close();
      await stores.close();
      logger.info("gateway stopped");
    })();
    return stopping;
  }

  return {
    server,
    port,
    pool,
    ...(passthrough ? { passthrough } : {}),
    ...(routes ? { routes } : {}),
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    stop,
  };
}

/** The route whose backends the REST API uses: SYNTHESIS_ROUTE, else one marked `synthesis: true`. */
function synthesisRouteOf(config: GatewayConfig, routes: RoutesConfig): CompiledRoute | undefined {
  if (config.synthesisRoute !== undefined) {
    const r = routes.routes.find((x) => x.name === config.synthesisRoute);
    if (!r) throw new Error(`SYNTHESIS_ROUTE: no route named ${config.synthesisRoute} in ${config.routesFile ?? "ROUTES_FILE"}`);
    return r;
  }
  return routes.routes.find((x) => x.synthesis);
}

/**
 * After a reload: the REST API's boxes become the synthesis route's (or COSYVOICE_URL's when the
 * file has none), live. A file whose SYNTHESIS_ROUTE is gone changes nothing (and says so).
 */
function syncSynthesisBoxes(config: GatewayConfig, next: RoutesConfig, pool: BackendPool, logger: Logger): void {
  let route: CompiledRoute | undefined;
  try {
    route = synthesisRouteOf(config, next);
  } catch (err) {
    logger.warn({ err }, "the REST API keeps its backends: the routes file has no such synthesis route");
    return;
  }
  try {
    pool.sync(route ? route.backends.map((b) => backendAddress(b.url, b.kind)) : config.cosyvoiceUrls);
  } catch (err) {
    logger.warn({ err }, "the REST API keeps its backends");
  }
}

/** Each backend's name and URL for the log, credentials taken out. */
function shownEndpoints(pool: BackendPool): Record<string, string> {
  return Object.fromEntries(Object.entries(pool.endpoints()).map(([name, url]) => [name, redactUrl(url)]));
}
