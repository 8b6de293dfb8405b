/**
 * A minimal EventSource over `fetch` for @gradio/client's `stream()` hook. Unlike the client's own
 * reader it uses the injected fetch, never logs, and reports a stream that breaks or ends without
 * Gradio's `close_stream` to a callback instead of `console.error`.
 */

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
  /** Called once when the stream fails or ends while not aborted. */
  onBroken: (cause: unknown) => void;
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
      let buf = "";
      let data: string[] = [];
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        for (;;) {
          const nl = buf.indexOf("\n");
          if (nl < 0) break;
          const line = buf.slice(0, nl).replace(/\r$/, "");
          buf = buf.slice(nl + 1);
          if (line === "") {
            if (data.length > 0) dispatch(data.join("\n"));
            data = [];
          } else if (line.startsWith("data:")) {
            data.push(line.slice(line[5] === " " ? 6 : 5));
          }
          // other fields (event:, id:, retry:, comments) are not used by Gradio's queue stream
        }
        if (opts.signal.aborted) break;
      }
      if (!opts.signal.aborted) throw new Error("the event stream ended before the job completed");
    } catch (e) {
      if (!opts.signal.aborted) opts.onBroken(e);
    } finally {
      src.readyState = 2;
    }
  })();
  return src;
}
