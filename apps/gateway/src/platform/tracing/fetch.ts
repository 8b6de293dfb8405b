import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { tracer } from "./spans.ts";

const urlOf = (input: RequestInfo | URL): URL => new URL(input instanceof Request ? input.url : String(input));

/**
 * A fetch that makes one CLIENT span per request (a child of the active span) and sends the W3C
 * `traceparent` with it: give it to the SDK (`ClientOptions.fetch`) so the UI's join, event
 * stream and file fetches show in the request's trace. The span ends when the response head
 * arrives (an event stream's body may last the whole job; the synthesis span covers that).
 * The query string is left out of the span: Gradio puts the session hash there.
 * @example const client = await CosyVoice.connect(url, { fetch: tracedFetch(globalThis.fetch) });
 */
export function tracedFetch(inner: typeof fetch): typeof fetch {
  return async function tracedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const url = urlOf(input);
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const span = tracer().startSpan(method, {
      kind: SpanKind.CLIENT,
      attributes: { "http.request.method": method, "url.full": `${url.origin}${url.pathname}`, "server.address": url.hostname, "server.port": Number(url.port || (url.protocol === "https:" ? 443 : 80)) },
    });
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    propagation.inject(trace.setSpan(context.active(), span), headers, { set: (h, k, v) => h.set(k, v) });
    try {
      const res = await inner(input, { ...init, headers });
      span.setAttribute("http.response.status_code", res.status);
      if (res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      return res;
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).name });
      throw err;
    } finally {
      span.end();
    }
  };
}
