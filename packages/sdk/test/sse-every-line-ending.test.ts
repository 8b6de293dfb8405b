/**
 * The queue's event stream is parsed per the SSE spec (eventsource-parser): lines may end in LF,
 * CRLF or a bare CR, and an event may be split anywhere between network chunks. The old
 * hand-written splitter only knew LF. An event over the size cap breaks the stream instead of
 * filling memory.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { openSse } from "../src/internal/sse.ts";

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

/** Serves `parts` as one event stream, each part its own network write. */
async function serve(parts: string[]): Promise<string> {
  server = createServer(async (_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const p of parts) {
      res.write(p);
      await new Promise((r) => setTimeout(r, 5));
    }
    res.end();
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

function collect(url: string, maxEventBytes = 1024) {
  const got: string[] = [];
  const broken: unknown[] = [];
  const ctl = new AbortController();
  const src = openSse(url, { fetch, headers: {}, signal: ctl.signal, maxEventBytes, onBroken: (e) => broken.push(e) });
  src.onmessage = (ev) => void got.push(ev.data);
  return { got, broken, ctl };
}

const close = 'data: {"msg":"close_stream"}';

describe("openSse", () => {
  it.each([
    ["LF", "\n"],
    ["CRLF", "\r\n"],
    ["a bare CR", "\r"],
  ])("lines ending in %s", async (_name, eol) => {
    const url = await serve([`data: {"a":1}${eol}${eol}data: {"b":`, `2}${eol}${eol}${close}${eol}${eol}`]);
    const s = collect(url);
    await expect.poll(() => s.got.length).toBe(3);
    expect(s.got.slice(0, 2)).toEqual(['{"a":1}', '{"b":2}']);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.broken, "a stream Gradio closed is not broken").toEqual([]);
  });

  it("a CR at the end of one chunk and LF at the start of the next are one line ending", async () => {
    const url = await serve(['data: {"a":1}\r', '\n\r\ndata: {"b":2}\r\n\r\n', `${close}\n\n`]);
    const s = collect(url);
    await expect.poll(() => s.got.length).toBe(3);
    expect(s.got.slice(0, 2)).toEqual(['{"a":1}', '{"b":2}']);
  });

  it("an end without close_stream is reported as broken", async () => {
    const url = await serve(['data: {"a":1}\n\n']);
    const s = collect(url);
    await expect.poll(() => s.broken.length).toBe(1);
  });

  it.each([
    ["while it is still incomplete", [`data: ${"x".repeat(4096)}`, "\n\n"]],
    // Whole in one network chunk, the parser never buffers it: it must be measured all the same.
    ["when it arrives whole, with a small event before it and after it", [`data: {"a":1}\n\ndata: ${"x".repeat(4096)}\n\ndata: {"b":2}\n\n${close}\n\n`]],
  ])("an event over the cap breaks the stream, %s", async (_name, parts) => {
    const url = await serve(parts);
    const s = collect(url, 1024);
    await expect.poll(() => s.broken.length).toBe(1);
    expect(String(s.broken[0])).toMatch(/exceeded 1024 bytes/);
    // Nothing from the oversized event on reaches the client.
    expect(s.got).toEqual(parts.length === 1 ? ['{"a":1}'] : []);
  });
});
