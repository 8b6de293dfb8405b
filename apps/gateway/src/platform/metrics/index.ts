export { createMetrics, type GatewayMetrics, type MetricsOptions, type BackendGaugeSource, type JobOutcome, type RefusalReason, type CacheResult } from "./metrics.ts";
export { httpMetrics, metricsRoute, refusalMetrics, routeTemplate } from "./http.ts";
