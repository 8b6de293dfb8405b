/**
 * What the JSON body parser and the error handler do with bodies and paths a client got wrong:
 * a declared Content-Length over the cap (413 before a byte is read), bytes that are not UTF-8
 * (400, never U+FFFD), a Content-Encoding the body does not match, a charset other than UTF-8,
 * and a path parameter that is not percent-encoded UTF-8 (400, not 500, and the raw path is not
 * echoed). Every answer is problem+json.
 */
import type { Socket } from "node:net";
import { openSocket } from "@cosyvoice3/testkit";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";

const PROBLEM = "urn:cosyvoice3-gateway:problem:";
const backend = new FakeBackend();
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ backend, config: { maxJsonBytes: 1024 } });
});
afterAll(() => gw.close());

const open = (): Promise<Socket> => openSocket(gw.url);

/** Reads one complete response (head and Content-Length body) off a socket. */
function nextResponse(s: Socket): Promise<{ head: string; body: string; closed: boolean }> {
  return new Promise((resolve) => {
    let raw = "";
    const done = (closed: boolean) => {
      s.off("data", onData);
      const i = raw.indexOf("\r\n\r\n");
      resolve({ head: i < 0 ? raw : raw.slice(0, i), body: i < 0 ? "" : raw.slice(i + 4), closed });
    };
    const onData = (b: Buffer) => {
      raw += b.toString("latin1");
      const i = raw.indexOf("\r\n\r\n");
      const len = /\r\ncontent-length: (\d+)/i.exec(raw.slice(0, i));
      if (i >= 0 && len && raw.length - i - 4 >= Number(len[1])) done(false);
    };
    s.on("data", onData);
    s.once("close", () => done(true));
  });
}

const postHead = (length: number | string) =>
  `POST /synthesize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe("a declared Content-Length over the cap", () => {
  it("far over the cap (10 GB) is 413 at once, without the body, and the connection is closed", async () => {
    const s = await open();
    const answer = nextResponse(s);
    s.write(postHead(10_000_000_000) + '{"te');
    const a = await answer;
    s.destroy();
    expect(a.head).toMatch(/^HTTP\/1\.1 413 /);
    expect(a.head).toMatch(/\r\nconnection: close/i);
    expect(a.head).toMatch(/\r\ncontent-type: application\/problem\+json/i);
    expect(JSON.parse(a.body)).toMatchObject({ type: PROBLEM + "payload-too-large", status: 413 });
  });

  it("a little over the cap is 413 before the body is sent, and the connection stays usable once it is", async () => {
    const s = await open();
    const first = nextResponse(s);
    s.write(postHead(2048));
    const a = await first;
    expect(a.head).toMatch(/^HTTP\/1\.1 413 /);
    expect(a.head).not.toMatch(/\r\nconnection: close/i);
    expect(JSON.parse(a.body)).toMatchObject({ type: PROBLEM + "payload-too-large" });
    // The late body is read and thrown away; the next request on the same connection is served.
    const second = nextResponse(s);
    s.write("x".repeat(2048) + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const b = await second;
    s.destroy();
    expect(b.head).toMatch(/^HTTP\/1\.1 200 /);
    expect(backend.calls).toHaveLength(0);
  });
});

describe("bytes that are not UTF-8", () => {
  it.each([
    ["0xff 0xfe", [0xff, 0xfe]],
    ["a truncated two-byte sequence", [0xc3, 0x28]],
    ["an encoded surrogate (CESU-8)", [0xed, 0xa0, 0x80]],
    ["an overlong '/'", [0xc0, 0xaf]],
  ])("%s in the text is 400 invalid-request pointing at the body, and nothing is synthesised", async (_name, bytes) => {
    const body = Buffer.concat([Buffer.from('{"text": "Hello '), Buffer.from(bytes), Buffer.from('", "voice": "builtin:中文女"}')]);
    const res = await gw.api("/synthesize", { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ type: PROBLEM + "invalid-request", detail: "The body is not valid UTF-8" });
    expect(res.json.errors).toEqual([expect.objectContaining({ pointer: "", code: "invalid_utf8" })]);
    expect(backend.calls).toHaveLength(0);
  });

  it("valid multi-byte UTF-8 (and a BOM) still goes through", async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ text: "你好，世界。", voice: "builtin:中文女" }))]);
    const res = await gw.api("/synthesize", { method: "POST", headers: { "content-type": "application/json; charset=utf-8" }, body });
    expect(res.status).toBe(201);
    expect(backend.calls.at(-1)?.request).toMatchObject({ text: "你好，世界。" });
    backend.calls.length = 0;
  });

  it("a charset other than UTF-8 (even one body-parser would decode) is 415", async () => {
    for (const charset of ["utf-16le", "latin1", "x-unknown"]) {
      const res = await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }, { "content-type": `application/json; charset=${charset}` }));
      expect(res.status, charset).toBe(415);
      expect(res.json.type).toBe(PROBLEM + "unsupported-media-type");
    }
  });
});

describe("Content-Encoding", () => {
  const json = JSON.stringify({ text: "Hi there.", voice: "builtin:中文女" });

  it.each(["gzip", "deflate", "br"])("a body that is not %s as declared is 400 invalid-request, not 500", async (encoding) => {
    const res = await gw.api("/synthesize", { method: "POST", headers: { "content-type": "application/json", "content-encoding": encoding }, body: json });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ type: PROBLEM + "invalid-request", detail: `The body does not decode as its Content-Encoding (${encoding})` });
    expect(gw.logLines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50)).toEqual([]);
  });

  it("a real gzip body is decoded and served", async () => {
    const res = await gw.api("/synthesize", { method: "POST", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: gzipSync(json) });
    expect(res.status).toBe(201);
    backend.calls.length = 0;
  });
});

describe("path parameters that are not percent-encoded UTF-8", () => {
  it.each([
    ["GET", "/voices/%c0%ae%c0%ae%2fsecret.txt"],
    ["DELETE", "/voices/%c0%ae%c0%ae%2fsecret.txt"],
    ["GET", "/audio/%c0%ae%c0%ae%2fsecret.txt"],
    ["GET", "/audio/%ff"],
    ["GET", "/voices/%e4%bd"],
  ])("%s %s is 400 invalid-request, and the raw path is not echoed in the detail", async (method, path) => {
    const res = await gw.api(path, { method });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ type: PROBLEM + "invalid-request", detail: "The path is not valid percent-encoded UTF-8" });
    expect(res.json.detail).not.toMatch(/secret|%/);
  });
});
