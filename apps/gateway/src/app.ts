import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { pinoHttp } from "pino-http";
import type { GatewayConfig } from "./config.ts";
import type { GatewayDeps, RouteContext } from "./context.ts";
import { authenticate, createJwtVerifier, requireScope } from "./auth/index.ts";
import { withCache } from "./cache/index.ts";
import { apiKeys } from "./middleware/api-keys.ts";
import { crossOrigin } from "./middleware/cors.ts";
import { notFound, problemHandler } from "./middleware/problem-handler.ts";
import { rateLimitFor } from "./middleware/rate-limit.ts";
import { requestId } from "./middleware/request-id.ts";
import { audioRoutes } from "./routes/audio.ts";
import { capabilitiesRoutes } from "./routes/capabilities.ts";
import { docsRoutes } from "./routes/docs.ts";
import { healthRoutes } from "./routes/health.ts";
import { playgroundRoutes } from "./playground/index.ts";
import { synthesizeRoutes } from "./routes/synthesize.ts";
import { voicesRoutes } from "./routes/voices.ts";
import { Encoders } from "./encode/encoders.ts";
import { openAIRoutes } from "./openai/router.ts";
import { createMetrics, httpMetrics, metricsRoute, refusalMetrics } from "./metrics/index.ts";
import { BackendPool } from "./pool.ts";
import { traceRequests, tracingEnabled, withSpans } from "./tracing/index.ts";
import { Slots } from "./slots.ts";
import { createSynthesisService } from "./synthesis/service.ts";
import "./locals.ts";

/**
 * Builds the gateway's Express app from injected parts; nothing here listens, reads the
 * environment or touches a global, so tests build as many as they like in-process.
 * @example
 * const app = createApp(config, { backend: connectingBackend(config.cosyvoiceUrls[0]), voices, audio, logger });
 * app.listen(config.port);
 */
export function createApp(config: GatewayConfig, deps: GatewayDeps): Express {
  const logger = deps.logger;
  if (deps.backend instanceof BackendPool && deps.slots) throw new Error("a BackendPool brings its own slots per backend; do not pass slots too");
  // A single backend becomes a pool of one, so one code path serves one box and many.
  const backend =
    deps.backend instanceof BackendPool
      ? deps.backend
      : BackendPool.single(deps.backend, deps.slots ?? new Slots({ concurrency: config.concurrency, queueSize: config.queueSize }), logger);
  const limit = (name: "read" | "upload" | "synthesize") =>
    rateLimitFor({
      name,
      limit: config.rateLimit[name],
      windowMs: config.rateLimit.windowMs,
      logger,
      ...(deps.rateLimitStore ? { store: deps.rateLimitStore(name) } : {}),
    });
  const metrics = deps.metrics ?? createMetrics();
  metrics.watchBackends(() => backend.status());
  backend.observe({ queueWait: (b, s) => metrics.queueWait(b, s), job: (b, outcome, s) => metrics.job(b, outcome, s) });
  const service = createSynthesisService({
    pool: backend,
    voices: deps.voices,
    audio: deps.audio,
    logger,
    timeoutMs: config.upstreamTimeoutMs,
    ...(deps.shutdown ? { shutdown: deps.shutdown } : {}),
  });
  // The cache wraps the service: a hit takes no slot; identical jobs in flight run once.
  const cached = deps.cache ? withCache(service, { cache: deps.cache, pool: backend, voices: deps.voices, audio: deps.audio, logger, metrics }) : service;
  const synthesis = tracingEnabled() ? withSpans(cached) : cached;
  const jwt =
    config.jwt.secret !== undefined || config.jwt.jwksUrl !== undefined
      ? createJwtVerifier({
        ...(config.jwt.secret !== undefined ? { secret: config.jwt.secret } : {}),
        ...(config.jwt.jwksUrl !== undefined ? { jwksUrl: config.jwt.jwksUrl } : {}),
        ...(config.jwt.issuer !== undefined ? { issuer: config.jwt.issuer } : {}),
        ...(config.jwt.audience !== undefined ? { audience: config.jwt.audience } : {}),
        clockToleranceSec: config.jwt.clockSkewSec,
      })
    : undefined;
  const keys = apiKeys({ keys: config.apiKeys, adminKeys: config.adminKeys });
  const ctx: RouteContext = {
    config,
    deps: {
      backend,
      synthesis,
      voices: deps.voices,
      audio: deps.audio,
      logger,
      clock: deps.clock ?? { now: Date.now },
      encoders: deps.encoders ?? new Encoders({ max: config.maxEncoders, ffmpegPath: config.ffmpegPath, logger }),
      ...(deps.shutdown ? { shutdown: deps.shutdown } : {}),
      ...(deps.sharedStore ? { sharedStore: deps.sharedStore } : {}),
    },
    guards: {
      auth: authenticate({ keys, keysConfigured: config.apiKeys.length + config.adminKeys.length > 0, ...(jwt ? { jwt } : {}) }),
      scope: requireScope,
      readLimit: limit("read"),
      uploadLimit: limit("upload"),
      synthesizeLimit: limit("synthesize"),
    },
  };

  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", config.trustProxy);
  // Only when tracing was started: off, it costs nothing per request.
  if (tracingEnabled()) app.use(traceRequests());
  app.use(requestId());
  // The routes file's routes come first (they log their own requests): see Passthrough.early.
  if (deps.passthrough) app.use(deps.passthrough.early);
  app.use(httpMetrics(metrics));
  app.use(
    pinoHttp({
      logger,
      genReqId: (_req, res) => (res as Response).locals.requestId,
      // The key and cookies never reach the log.
      redact: ["req.headers.authorization", "req.headers.cookie", "req.headers[\"x-api-key\"]"],
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "warn" : "info"),
      autoLogging: { ignore: (req) => req.url === "/healthz" || req.url === "/readyz" || req.url === "/metrics" },
    }),
  );
  app.use(function securityHeaders(_req: Request, res: Response, next: NextFunction) {
    res.setHeader("X-Content-Type-Options", "nosniff");
    next();
  });
  // Before the routes' auth and rate limits: a preflight carries no key.
  app.use(crossOrigin({ origins: config.corsOrigins }));
  if (deps.passthrough && config.apiKeys.length > 0) app.use(deps.passthrough.signIn);
  app.get("/metrics", metricsRoute(metrics));
  app.use(healthRoutes(ctx));
  app.use(capabilitiesRoutes(ctx));
  app.use(docsRoutes(ctx));
  app.use(voicesRoutes(ctx));
  app.use(synthesizeRoutes(ctx));
  app.use(audioRoutes(ctx));
  // OpenAI's speech API: its own error shape, so its own 404 and error handler inside.
  app.use("/v1", openAIRoutes(ctx, { metrics }));
  // The playground's `/` and `/playground/` give way to a passthrough route at `/` (a catch-all
  // to the web UI), which the routes file may add or drop at any time.
  if (config.playground) app.use(playgroundRoutes({ active: () => !deps.passthrough?.routes.some((r) => r.path === "/") }));
  // A catch-all route at `/` gets only what the gateway's own paths do not answer.
  if (deps.passthrough) app.use(deps.passthrough.late);
  app.use(notFound());
  app.use(refusalMetrics(metrics));
  app.use(problemHandler({ logger }));
  return app;
}
