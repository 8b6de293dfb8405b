/**
 * A `synthesis` span around each call of the synthesis service (whole clip or stream), a child
 * of the request's span: its voice, mode, length, the backend that ran it (`cache` for a hit)
 * and the cache's answer, which the cache notes on the active span.
 */
import { context, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import type { BackendChunk } from "../../backends/port.ts";
import type { StoredClip, SynthesisPlan, SynthesisService, SynthesisStream } from "./service.ts";
import { tracer } from "../../platform/tracing/spans.ts";

const startAttrs = (plan: SynthesisPlan, stream: boolean) => ({
  "synthesis.voice": plan.voice.id,
  "synthesis.text_chars": plan.text.length,
  "synthesis.stream": stream,
  "synthesis.mode": plan.mode,
  ...(plan.seed !== undefined ? { "synthesis.seed": plan.seed } : {}),
});

function ended(span: Span, clip: StoredClip): void {
  span.setAttributes({ "synthesis.mode": clip.mode, "synthesis.backend": clip.backend, "synthesis.duration_ms": clip.durationMs, "synthesis.chunks": clip.chunks, "synthesis.audio_id": clip.id });
}

function failed(span: Span, err: unknown): void {
  const code = (err as { code?: unknown } | null)?.code;
  span.setStatus({ code: SpanStatusCode.ERROR, message: typeof code === "string" ? code : "error" });
}

/**
 * @example const synthesis = tracingEnabled() ? withSpans(service) : service;
 */
export function withSpans(inner: SynthesisService): SynthesisService {
  return {
    answers: inner.answers,
    plan: (input, opts) => inner.plan(input, opts),
    synthesize(plan, opts) {
      return tracer().startActiveSpan("synthesis", { attributes: startAttrs(plan, false) }, async (span) => {
        try {
          const clip = await inner.synthesize(plan, opts);
          ended(span, clip);
          return clip;
        } catch (err) {
          failed(span, err);
          throw err;
        } finally {
          span.end();
        }
      });
    },
    stream(plan, opts): SynthesisStream {
      const span = tracer().startSpan("synthesis", { attributes: startAttrs(plan, true) });
      const ctx = trace.setSpan(context.active(), span);
      const s = context.with(ctx, () => inner.stream(plan, opts));
      s.clip.then(
        (clip) => ended(span, clip),
        (err: unknown) => failed(span, err),
      );
      return {
        id: s.id,
        clip: s.clip,
        signal: s.signal,
        [Symbol.asyncIterator](): AsyncIterator<BackendChunk> {
          const it = s[Symbol.asyncIterator]();
          let open = true;
          const end = () => {
            if (open) span.end();
            open = false;
          };
          // Each step runs in the span's context, so the SDK's fetches are its children.
          return {
            async next() {
              try {
                const r = await context.with(ctx, () => it.next());
                if (r.done) end();
                return r;
              } catch (err) {
                failed(span, err);
                end();
                throw err;
              }
            },
            async return(value?: unknown) {
              try {
                return (await context.with(ctx, () => it.return?.(value))) ?? { done: true, value: undefined };
              } finally {
                end();
              }
            },
          };
        },
      };
    },
  };
}
