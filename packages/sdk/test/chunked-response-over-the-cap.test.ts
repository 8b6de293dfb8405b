/**
 * Byte caps hold while reading, not only when a Content-Length says so: a chunked answer without
 * one, a file that is a device, and the UI's own outputs (clip and segments) re-sent chunked by a
 * proxy. Reading stops at the cap (the sender sees the connection go), and the call fails with a
 * typed error instead of filling memory.
 */
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CosyVoice, UpstreamError, ValidationError } from "../src/index.ts";
import { countingFetch, makeWav } from "./helpers.ts";

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A server that streams zeros, chunked, without end; it records how much it got to write. */
function endlessChunked() {
  const sent = { bytes: 0, closed: false };
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "audio/wav" }); // no Content-Length: chunked
    const block = Buffer.alloc(64 * 1024);
    const pump = () => {
      while (!res.destroyed && sent.bytes < 1024 ** 3) {
        sent.bytes += block.length;
        if (!res.write(block)) return void res.once("drain", pump);
      }
    };
    res.on("close", () => (sent.closed = true));
    pump();
  });
  return { server, sent };
}

/** A reverse proxy that re-sends every answer chunked (Content-Length removed). */
function chunkingProxy(target: string): Server {
  const { hostname, port } = new URL(target);
  const hop = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const up = httpRequest({ hostname, port, path: req.url, method: req.method, headers: { ...req.headers, host: `${hostname}:${port}` } }, (ur) => {
      const headers = Object.fromEntries(Object.entries(ur.headers).filter(([k]) => !hop.has(k)));
      res.writeHead(ur.statusCode ?? 502, headers);
      ur.pipe(res);
    });
    up.on("error", () => res.destroy());
    res.on("close", () => up.destroy());
    req.pipe(up);
  });
}

const sentences = (n: number) => Array.from({ length: n }, (_, i) => `This is sentence number ${i + 1} of the test.`).join(" ");

describe("prompt audio over the cap", () => {
  let standin: StandinHandle;
  let cv: CosyVoice;
  let counter: ReturnType<typeof countingFetch>;
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice3" });
    counter = countingFetch();
    cv = await CosyVoice.connect(standin.url, { fetch: counter.fetch, maxPromptBytes: 1024 * 1024 });
  });
  afterAll(async () => {
    await cv?.close();
    await standin?.stop();
  });

  it("a chunked { url } without Content-Length is cut off at the cap: ValidationError too_big, nothing uploaded", async () => {
    const { server, sent } = endlessChunked();
    const base = await listen(server);
    try {
      counter.requests.length = 0;
      const err = await cv.synthesize({ mode: "crossLingual", text: "Hello.", promptAudio: { url: `${base}/endless.wav` } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues).toEqual([expect.objectContaining({ path: ["promptAudio"], code: "too_big" })]);
      await expect.poll(() => sent.closed).toBe(true);
      // Socket buffers let the sender get a little ahead; nowhere near the gigabyte it would send.
      expect(sent.bytes).toBeLessThan(16 * 1024 * 1024);
      expect(counter.requests.filter((r) => r.path.endsWith("/upload") || r.path.endsWith("/queue/join"))).toEqual([]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("{ path } of a device that never ends (/dev/zero) is cut off at the cap", async () => {
    const err = await cv.synthesize({ mode: "crossLingual", text: "Hello.", promptAudio: { path: "/dev/zero" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues[0]?.code).toBe("too_big");
  });

  it("bytes over the cap are refused before anything is read or sent", async () => {
    const err = await cv
      .synthesize({ mode: "crossLingual", text: "Hello.", promptAudio: new Uint8Array(1024 * 1024 + 1) })
      .catch((e: unknown) => e);
    expect((err as ValidationError).issues[0]?.code).toBe("too_big");
  });
});

describe("the UI's outputs over the cap, sent chunked", () => {
  let standin: StandinHandle;
  let proxy: Server;
  let url: string;
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice1" });
    proxy = chunkingProxy(standin.url);
    url = await listen(proxy);
  });
  afterAll(async () => {
    proxy?.closeAllConnections();
    proxy?.close();
    await standin?.stop();
  });

  const request = { mode: "pretrained", text: sentences(4), voice: "英文女" } as const;

  it("through the proxy the clip and the segments arrive without Content-Length and in full", async () => {
    const res = await fetch(`${url}/config`);
    expect(res.headers.get("content-length")).toBeNull();
    await res.arrayBuffer();
    const cv = await CosyVoice.connect(url, { model: "cosyvoice1" });
    try {
      expect((await cv.synthesize(request)).audio.byteLength).toBeGreaterThan(20_000);
      const got = [];
      for await (const c of cv.stream(request)) got.push(c);
      expect(got.length).toBeGreaterThan(0);
    } finally {
      await cv.close();
    }
  });

  it("synthesize: a WAV over maxDownloadBytes stops the download with UpstreamError", async () => {
    const cv = await CosyVoice.connect(url, { model: "cosyvoice1", maxDownloadBytes: 20_000 });
    try {
      const err = await cv.synthesize(request).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamError);
      expect((err as UpstreamError).message).toMatch(/more than 20000 bytes for the clip/);
    } finally {
      await cv.close();
    }
  });

  it("stream: a segment over maxDownloadBytes stops the stream with UpstreamError", async () => {
    const cv = await CosyVoice.connect(url, { model: "cosyvoice1", maxDownloadBytes: 1_000 });
    try {
      const err = await (async () => {
        for await (const _ of cv.stream(request)) void _;
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamError);
      expect((err as UpstreamError).message).toMatch(/more than 1000 bytes for a segment/);
    } finally {
      await cv.close();
    }
  });

  it("a prompt under the cap still goes through the same proxy", async () => {
    const cv = await CosyVoice.connect(url, { model: "cosyvoice1", maxPromptBytes: 200_000 });
    try {
      const res = await cv.synthesize({ mode: "crossLingual", text: "Hello there.", promptAudio: makeWav({ seconds: 2 }) });
      expect(res.sampleRate).toBe(22_050);
    } finally {
      await cv.close();
    }
  });
});
