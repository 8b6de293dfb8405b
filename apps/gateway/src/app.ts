import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { pinoHttp } from "pino-http";
import type { GatewayConfig } from "./config.ts";
import type { GatewayDeps, RouteContext } from "./context.ts";
import { apiKeys } from "./middleware/api-keys.ts";
import { notFound, problemHandler } from "./middleware/problem-handler.ts";
import { rateLimitFor } from "./middleware/rate-limit.ts";
import { requestId } from "./middleware/request-id.ts";
import { audioRoutes } from "./routes/audio.ts";
import { docsRoutes } from "./routes/docs.ts";
import { healthRoutes } from "./routes/health.ts";
import { synthesizeRoutes } from "./routes/synthesize.ts";
import { voicesRoutes } from "./routes/voices.ts";
import { Slots } from "./slots.ts";
import "./locals.ts";

/**
 * Builds the gateway's Express app from injected parts; nothing here listens, reads the
 * environment or touches a global, so tests build as many as they like in-process.
 * @example
 * const app = createApp(config, { backend: connectingBackend(config.cosyvoiceUrl), voices, audio, logger });
 * app.listen(config.port);
 */
export function createApp(config: GatewayConfig, deps: GatewayDeps): Express {
  const logger = deps.logger;
  const ctx: RouteContext = {
    config,
    deps: {
      ...deps,
      clock: deps.clock ?? { now: Date.now },
      slots: deps.slots ?? new Slots({ concurrency: config.concurrency, queueSize: config.queueSize }),
    },
    guards: {
      auth: apiKeys({ keys: config.apiKeys }),
      readLimit: rateLimitFor({ name: "read", limit: config.rateLimit.read, windowMs: config.rateLimit.windowMs, logger }),
      uploadLimit: rateLimitFor({ name: "upload", limit: config.rateLimit.upload, windowMs: config.rateLimit.windowMs, logger }),
      synthesizeLimit: rateLimitFor({ name: "synthesize", limit: config.rateLimit.synthesize, windowMs: config.rateLimit.windowMs, logger }),
    },
  };

  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", config.trustProxy);
  app.use(requestId());
  app.use(
    pinoHttp({
      logger,
      genReqId: (_req, res) => (res as Response).locals.requestId,
      // The key and cookies never reach the log.
      redact: ["req.headers.authorization", "req.headers.cookie", "req.headers[\"x-api-key\"]"],
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "warn" : "info"),
      autoLogging: { ignore: (req) => req.url === "/healthz" || req.url === "/readyz" },
    }),
  );
  app.use(function securityHeaders(_req: Request, res: Response, next: NextFunction) {
    res.setHeader("X-Content-Type-Options", "nosniff");
    next();
  });
  app.use(healthRoutes(ctx));
  app.use(docsRoutes(ctx));
  app.use(voicesRoutes(ctx));
  app.use(synthesizeRoutes(ctx));
  app.use(audioRoutes(ctx));
  app.use(notFound());
  app.use(problemHandler({ logger }));
  return app;
}
