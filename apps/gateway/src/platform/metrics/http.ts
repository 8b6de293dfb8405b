import type { ErrorRequestHandler, NextFunction, Request, Response } from "express";
import type { GatewayMetrics, RefusalReason } from "./metrics.ts";

/**
 * The route template that served a request (`/voices/:id`), never its raw path, so the label set
 * stays bounded; `unmatched` when no route took it (404s of random paths).
 * @example routeTemplate(req) // "/audio/:id"
 */
export function routeTemplate(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path !== "string") return "unmatched";
  return (req.baseUrl ?? "") + path;
}

/**
 * Counts every request by method, route template and status, with its latency, when the
 * response finishes (or the client goes away: counted with the status that was set).
 * @example app.use(httpMetrics(metrics));
 */
export function httpMetrics(metrics: GatewayMetrics) {
  return function httpMetrics(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    res.once("close", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpRequest(req.method, routeTemplate(req), res.statusCode, seconds);
    });
    next();
  };
}

/** Error codes (the `code` of a problem or a domain error) that mean "refused before running". */
const REFUSALS: Record<string, RefusalReason> = {
  rate_limited: "rate_limited",
  busy: "busy",
  capacity: "busy",
  breaker_open: "breaker_open",
  queue_full: "queue_full",
  store_unavailable: "store_unavailable",
};

/**
 * An error middleware that counts refusals by reason and passes the error on; put it just before
 * the problem handler.
 * @example app.use(refusalMetrics(metrics)); app.use(problemHandler({ logger }));
 */
export function refusalMetrics(metrics: GatewayMetrics): ErrorRequestHandler {
  return function refusalMetrics(err: unknown, _req: Request, _res: Response, next: NextFunction): void {
    const code = (err as { code?: unknown } | null)?.code;
    const reason = typeof code === "string" ? REFUSALS[code] : undefined;
    if (reason) metrics.refusal(reason);
    next(err);
  };
}

/**
 * `GET /metrics`: the registry in Prometheus text format.
 * @example app.get("/metrics", metricsRoute(metrics));
 */
export function metricsRoute(metrics: GatewayMetrics) {
  return async function metricsRoute(_req: Request, res: Response): Promise<void> {
    const body = await metrics.registry.metrics();
    res.set("Cache-Control", "no-store").type(metrics.registry.contentType).end(body);
  };
}
