import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { pinoHttp } from "pino-http";
import type { GatewayConfig } from "./platform/config.ts";
import type { GatewayDeps, RouteContext } from "./context.ts";
import { httpLogSerializers } from "./platform/logging.ts";
import { authenticate, createJwtVerifier, requireScope } from "./platform/auth/index.ts";
import { withCache } from "./service/cache/index.ts";
import { apiKeys } from "./platform/middleware/api-keys.ts";
import { crossOrigin } from "./platform/middleware/cors.ts";
import { notFound, problemHandler } from "./platform/middleware/problem-handler.ts";
import { rateLimitFor } from "./platform/middleware/rate-limit.ts";
import { requestId } from "./platform/middleware/request-id.ts";
import { audioRoutes } from "./doors/rest/audio.ts";
import { capabilitiesRoutes } from "./doors/rest/capabilities.ts";
import { docsRoutes } from "./doors/rest/docs.ts";
import { healthRoutes } from "./doors/rest/health.ts";
import { playgroundRoutes } from "./doors/playground/index.ts";
import { synthesizeRoutes } from "./doors/rest/synthesize.ts";
import { voicesRoutes } from "./doors/rest/voices.ts";
import { Encoders } from "./service/encode/encoders.ts";
import { openAIRoutes } from "./doors/openai/router.ts";
import { createMetrics, httpMetrics, metricsRoute, refusalMetrics } from "./platform/metrics/index.ts";
import { BackendPool } from "./backends/pool/index.ts";
import { traceRequests } from "./platform/tracing/spans.ts";
import { tracingEnabled } from "./platform/tracing/state.ts";
import { withSpans } from "./service/synthesis/spans.ts";
import { Slots } from "./service/caps/slots.ts";
import { createSynthesisService } from "./service/synthesis/service.ts";
import "./platform/http/locals.ts";
import { createAsrClient } from "./backends/asr/client.ts";
import { MemoryConsentStore } from "./platform/stores/consent-store.ts";
import { jobsRoutes } from "./doors/jobs/routes.ts";

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
    keyed: deps.cache !== undefined,
  });
  // The cache wraps the service: a hit takes no slot; identical jobs in flight run once.
  const cached = deps.cache ? withCache(service, { cache: deps.cache, pool: backend, audio: deps.audio, logger, metrics }) : service;
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
  const asr =
    deps.asr ??
    (config.asr.url !== undefined
      ? createAsrClient({ url: config.asr.url, model: config.asr.model, timeoutMs: config.asr.timeoutMs, breakerFailures: config.breaker.failures, breakerOpenMs: config.breaker.openMs, logger, registry: metrics.registry })
      : undefined);
  const keys = apiKeys({ keys: config.apiKeys, adminKeys: config.adminKeys });
  const ctx: RouteContext = {
    config,
    deps: {
      backend,
      synthesis,
      voices: deps.voices,
      audio: deps.audio,
      consents: deps.consents ?? new MemoryConsentStore(),
      ...(asr ? { asr } : {}),
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
      // Keys, cookies and key-like query values never reach the log (platform/logging.ts).
      serializers: httpLogSerializers,
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
  // Narration jobs: their segments go through the same synthesis service, at background priority.
  if (deps.jobs) {
    const { synthesis, encoders, voices, audio } = ctx.deps;
    app.use(jobsRoutes(ctx, { jobs: deps.jobs({ synthesis, pool: backend, encoders, voices, audio, logger }) }));
  }
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
