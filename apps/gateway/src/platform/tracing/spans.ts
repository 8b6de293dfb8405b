/**
 * The gateway's own spans: one SERVER span per request (continuing an incoming `traceparent`),
 * a span around a synthesis, and the trace id on log lines.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";
import type { NextFunction, Request, Response } from "express";
import { routeTemplate } from "../metrics/http.ts";

/** The tracer every gateway span comes from (a no-op until tracing is started). */
export const tracer = () => trace.getTracer("cosyvoice3-gateway");

/**
 * One SERVER span per request, named `METHOD /route/:template` once routing is known, with the
 * status; a 5xx marks it as an error. Downstream code runs inside its context, so the SDK's
 * client spans and the log lines belong to it.
 * @example if (tracingEnabled()) app.use(traceRequests());
 */
export function traceRequests() {
  return function traceRequests(req: Request, res: Response, next: NextFunction): void {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer().startSpan(
      req.method,
      { kind: SpanKind.SERVER, attributes: { "http.request.method": req.method, "url.path": req.path, "url.scheme": req.protocol, "user_agent.original": req.get("user-agent") ?? "" } },
      parent,
    );
    res.once("close", () => {
      const route = routeTemplate(req);
      span.updateName(`${req.method} ${route}`);
      span.setAttribute("http.route", route);
      span.setAttribute("http.response.status_code", res.statusCode);
      if (!res.writableFinished) span.setAttribute("gateway.client_closed", true);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}

/**
 * Runs `fn` inside a new INTERNAL span (a child of the active one); a throw marks it as an error
 * with the error's `code`.
 * @example const clip = await inSpan("synthesis", { "synthesis.mode": mode }, (span) => service.synthesize(input, opts));
 */
export async function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      span.setStatus({ code: SpanStatusCode.ERROR, message: typeof code === "string" ? code : "error" });
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * The active trace and span ids for pino's `mixin`, so every log line of a request names its
 * trace; nothing when no span is active.
 * @example pino({ mixin: traceLogFields })
 */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const ctx = trace.getActiveSpan()?.spanContext();
  if (!ctx || !trace.isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}
