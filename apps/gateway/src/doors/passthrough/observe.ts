/**
 * Reading what passes through without holding it up: the small JSON answers of upload, join and
 * call (which files and events now live on the backend), and Gradio's event streams (when a job
 * completes, which files it produced). Chunks are passed on as they come; only a copy is parsed.
 */
import { createParser } from "eventsource-parser";
import { collectFiles } from "./gradio-paths.ts";

/**
 * Collects a small body (at most `max` bytes) and hands it, parsed as JSON, to `done` at its end.
 * @example const watch = jsonBody(64 * 1024, (v) => record(v)); proxyRes.on("data", watch.chunk); proxyRes.on("end", watch.end);
 */
export function jsonBody(max: number, done: (value: unknown) => void): { chunk: (c: Buffer) => void; end: () => void } {
  const parts: Buffer[] = [];
  let size = 0;
  return {
    chunk(c) {
      size += c.length;
      if (size <= max) parts.push(c);
    },
    end() {
      if (size > max) return;
      try {
        done(JSON.parse(Buffer.concat(parts).toString("utf8")));
      } catch {
        // Not JSON (an error page): nothing to learn.
      }
    },
  };
}

/** One Gradio queue message (`queue/data`) or `/call` stream event, as far as routing cares. */
export interface StreamMessage {
  /** `process_completed`, `process_generating`, ... (queue/data) or the SSE event name (/call). */
  msg: string;
  eventId: string | undefined;
  /** Server paths of files in its output. */
  files: string[];
}

/**
 * Parses an event stream as it passes; each event's data that is JSON becomes a {@link StreamMessage}.
 * @example const feed = gradioEvents((m) => m.msg === "process_completed" && jobs.completed(m.eventId!)); proxyRes.on("data", feed);
 */
export function gradioEvents(onMessage: (m: StreamMessage) => void): (chunk: Buffer) => void {
  const decoder = new TextDecoder();
  const parser = createParser({
    onEvent(ev) {
      let data: unknown;
      try {
        data = JSON.parse(ev.data);
      } catch {
        // `data: ALIVE` (heartbeat) and other non-JSON data carry nothing for us.
        if (ev.event) onMessage({ msg: ev.event, eventId: undefined, files: [] });
        return;
      }
      const o = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
      const files: string[] = [];
      collectFiles(ev.event ? data : o["output"], files, 0);
      onMessage({
        msg: ev.event ?? (typeof o["msg"] === "string" ? o["msg"] : ""),
        eventId: typeof o["event_id"] === "string" ? o["event_id"] : undefined,
        files,
      });
    },
  });
  return (chunk) => parser.feed(decoder.decode(chunk, { stream: true }));
}
