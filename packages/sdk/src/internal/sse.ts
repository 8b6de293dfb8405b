/**
 * A minimal EventSource over `fetch` for @gradio/client's `stream()` hook. Unlike the client's own
 * reader it uses the injected fetch, never logs, caps the size of one event, and reports a stream
 * that breaks, or ends without Gradio's `close_stream` message, to a callback instead of
 * `console.error`.
 * Parsing is eventsource-parser's (every line ending the spec allows: LF, CRLF and a bare CR).
 */
import { createParser } from "eventsource-parser";

/** The EventSource subset @gradio/client uses (`onmessage`, `onerror`, `close`). */
export interface SseSource {
  url: string;
  readyState: number;
  onmessage: ((ev: { data: string }) => unknown) | null;
  onerror: ((ev: unknown) => unknown) | null;
  onopen: null;
  close(): void;
}

export interface SseOptions {
  fetch: typeof fetch;
  headers: Record<string, string>;
  /** Aborting it closes the stream quietly. */
  signal: AbortSignal;
  /** Largest event (or unterminated line) buffered. @unit bytes */
  maxEventBytes: number;
  /** Called once when the stream fails or ends while not aborted. */
  onBroken: (cause: unknown) => void;
}

function isCloseStream(data: string): boolean {
  try {
    return (JSON.parse(data) as { msg?: unknown }).msg === "close_stream";
  } catch {
    return false;
  }
}

/** Opens `url` as a server-sent event stream; messages go to `onmessage` as they arrive. */
export function openSse(url: string, opts: SseOptions): SseSource {
  const src: SseSource = {
    url,
    readyState: 0,
    onmessage: null,
    onerror: null,
    onopen: null,
    close: () => undefined,
  };
  const dispatch = (data: string) => {
    try {
      // @gradio/client's handler is async; a failure in it must not become an unhandled rejection.
      Promise.resolve(src.onmessage?.({ data })).catch(() => undefined);
    } catch {
      // same as above, for a synchronous throw
    }
  };
  let parseFailure: Error | undefined;
  // Gradio says `close_stream` when the session has nothing left to send; the end that follows is clean.
  let closedByServer = false;
  const tooLarge = () => new Error(`an event of the queue stream exceeded ${opts.maxEventBytes} bytes`);
  const parser = createParser({
    onEvent: (ev) => {
      if (parseFailure) return;
      // The parser's own cap covers what it buffers while an event is incomplete; an event that
      // arrives whole in one network chunk is never buffered, so it is measured here.
      if (ev.data.length > opts.maxEventBytes) {
        parseFailure = tooLarge();
        return;
      }
      if (ev.data.includes('"close_stream"')) closedByServer = isCloseStream(ev.data);
      dispatch(ev.data);
    },
    // Unknown fields are allowed by the spec and ignored; only an oversized buffer is fatal.
    onError: (err) => {
      if (err.type === "max-buffer-size-exceeded") parseFailure ??= tooLarge();
    },
    maxBufferSize: opts.maxEventBytes,
  });
  void (async () => {
    try {
      const res = await opts.fetch(url, {
        headers: { ...opts.headers, Accept: "text/event-stream" },
        signal: opts.signal,
      });
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        throw new Error(`event stream answered HTTP ${res.status}`);
      }
      src.readyState = 1;
      const decoder = new TextDecoder();
      let endsInCr = false;
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (opts.signal.aborted) break;
          if (done) {
            // A CR at the very end is a line ending; the parser waits to see whether LF follows.
            if (endsInCr) parser.feed("\n");
            break;
          }
          const text = decoder.decode(value, { stream: true });
          if (text.length > 0) endsInCr = text.endsWith("\r");
          parser.feed(text);
          if (parseFailure) throw parseFailure;
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
      if (!opts.signal.aborted && !closedByServer) throw new Error("the event stream ended before the job completed");
    } catch (e) {
      if (!opts.signal.aborted) opts.onBroken(e);
    } finally {
      src.readyState = 2;
    }
  })();
  return src;
}
