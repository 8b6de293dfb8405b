/**
 * OpenTelemetry tracing, configured by the standard `OTEL_*` variables and off (nothing
 * installed, no per-request cost) when no OTLP endpoint is set. The gateway's process imports
 * this module (and with it the OpenTelemetry SDK and exporters) only when one is set (`main.ts`). When on, spans go in batches to
 * the OTLP/HTTP endpoint as JSON or protobuf, the W3C `traceparent` is read from requests and
 * sent upstream, and async context follows each request through the SDK's calls.
 */
import { context, propagation, trace } from "@opentelemetry/api";
import { OTLPTraceExporter as OtlpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OtlpProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import type { Logger } from "pino";
import { setTracingActive, tracingEnabled } from "./state.ts";

/** The `OTEL_*` variables read (all optional). */
export interface TracingEnv {
  /** Base URL of the OTLP/HTTP receiver; `/v1/traces` is appended. Unset: tracing is off. */
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  /** Full URL for traces only (wins over the base URL, used as given). */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  /** `http/protobuf` (the OpenTelemetry default) or `http/json`. */
  OTEL_EXPORTER_OTLP_PROTOCOL?: string;
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?: string;
  /** @default "cosyvoice3-gateway" */
  OTEL_SERVICE_NAME?: string;
  /** `key=value,key=value` added to the resource. */
  OTEL_RESOURCE_ATTRIBUTES?: string;
  /** `true` turns tracing off whatever else is set. */
  OTEL_SDK_DISABLED?: string;
}

/** Tracing as started; `enabled` false means nothing was installed. */
export interface Tracing {
  readonly enabled: boolean;
  /** Sends what is still buffered. */
  flush(): Promise<void>;
  /** Flushes, then uninstalls the provider, context manager and propagator. */
  shutdown(): Promise<void>;
}

export { tracingEnabled } from "./state.ts";

const OFF: Tracing = { enabled: false, flush: async () => undefined, shutdown: async () => undefined };

function resourceAttributes(env: TracingEnv): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const pair of (env.OTEL_RESOURCE_ATTRIBUTES ?? "").split(",")) {
    const i = pair.indexOf("=");
    if (i > 0) attrs[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
  }
  attrs["service.name"] = env.OTEL_SERVICE_NAME ?? attrs["service.name"] ?? "cosyvoice3-gateway";
  return attrs;
}

/**
 * Starts tracing when an OTLP endpoint is set (and `OTEL_SDK_DISABLED` is not `true`).
 * @throws Error for a protocol other than http/json and http/protobuf
 * @example
 * const tracing = startTracing(process.env, logger); // before createApp
 * process.once("SIGTERM", () => void tracing.shutdown());
 */
export function startTracing(env: TracingEnv, logger: Logger): Tracing {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined);
  if (url === undefined || env.OTEL_SDK_DISABLED === "true") return OFF;
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? "http/protobuf";
  let exporter: SpanExporter;
  if (protocol === "http/json") exporter = new OtlpJsonExporter({ url });
  else if (protocol === "http/protobuf") exporter = new OtlpProtoExporter({ url });
  else throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL: ${JSON.stringify(protocol)} is not supported; use http/protobuf or http/json`);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes(resourceAttributes(env)),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1_000 })],
  });
  // Installs the AsyncLocalStorage context manager and the W3C trace-context propagator.
  provider.register();
  setTracingActive(true);
  logger.info({ url, protocol, service: resourceAttributes(env)["service.name"] }, "tracing on: spans go to the OTLP endpoint");
  return {
    enabled: true,
    flush: () => provider.forceFlush(),
    async shutdown() {
      if (!tracingEnabled()) return;
      setTracingActive(false);
      await provider.shutdown().catch((err: unknown) => logger.warn({ err }, "tracing: the last spans could not be sent"));
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
