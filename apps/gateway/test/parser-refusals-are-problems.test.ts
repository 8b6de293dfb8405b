/**
 * Requests Node's HTTP parser refuses before Express sees them get the same problem+json as
 * every other error (the server's `clientError` handler), with `Connection: close`: an
 * oversized head (431), an unknown method, a malformed request line, Content-Length with
 * Transfer-Encoding (400), and a request that stalls past REQUEST_TIMEOUT_MS (408, cut within
 * about a second of checking rather than Node's default 30 s sweep).
 */
import { mkdtempSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../src/platform/config.ts";
import { startGateway, serverTimeouts, type RunningGateway } from "../src/server.ts";
import { FakeBackend } from "./helpers/fake-backend.ts";

const PROBLEM = "urn:cosyvoice3-gateway:problem:";
const REQUEST_TIMEOUT_MS = 1_000;
const logLines: string[] = [];
let gw: RunningGateway;

beforeAll(async () => {
  const config = defaultConfig({ port: 0, host: "127.0.0.1", dataDir: mkdtempSync(join(tmpdir(), "gw-parser-")), requestTimeoutMs: REQUEST_TIMEOUT_MS });
  gw = await startGateway(config, pino({ level: "debug" }, { write: (l: string) => void logLines.push(l) }), { backend: new FakeBackend() });
});
afterAll(() => gw.stop());

/** Sends raw bytes and collects everything until the server closes the connection. */
function exchange(data: string, waitMs = 15_000): Promise<{ raw: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect(gw.port, "127.0.0.1", () => s.write(data));
    let raw = "";
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ raw, closed: false });
    }, waitMs);
    s.on("data", (b: Buffer) => (raw += b.toString("latin1")));
    s.on("close", () => {
      clearTimeout(timer);
      resolve({ raw, closed: true });
    });
    s.on("error", (err) => (raw === "" ? reject(err) : undefined));
  });
}

function expectProblemAnswer(a: { raw: string; closed: boolean }, status: number, slug: string): void {
  const i = a.raw.indexOf("\r\n\r\n");
  const head = a.raw.slice(0, i + 2);
  const body = a.raw.slice(i + 4);
  expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  expect(head).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/i);
  expect(head).toMatch(/\r\nconnection: close\r\n/i);
  expect(head).toMatch(new RegExp(`\\r\\ncontent-length: ${Buffer.byteLength(body, "latin1")}\\r\\n`, "i"));
  const problem = JSON.parse(body) as { type: string; status: number; requestId: string };
  expect(problem).toMatchObject({ type: PROBLEM + slug, status });
  expect(head).toContain(`\r\nX-Request-Id: ${problem.requestId}`);
  expect(a.closed).toBe(true);
}

describe("requests the HTTP parser refuses", () => {
  it("a 20 KB header is 431 headers-too-large", async () => {
    expectProblemAnswer(await exchange(`GET /voices HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`), 431, "headers-too-large");
  });

  it("a 20 KB URL is 431 headers-too-large", async () => {
    expectProblemAnswer(await exchange(`GET /voices/${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`), 431, "headers-too-large");
  });

  it.each([
    ["an unknown method", "BREW /voices HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a malformed request line", "this is not http\r\n\r\n"],
    ["Content-Length with Transfer-Encoding (smuggling)", "POST /synthesize HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
    ["a header without a colon", "GET /voices HTTP/1.1\r\nHost: x\r\nBroken header\r\n\r\n"],
  ])("%s is 400 malformed-request, and the input is not echoed", async (_name, raw) => {
    const a = await exchange(raw);
    expectProblemAnswer(a, 400, "malformed-request");
    expect(a.raw).not.toMatch(/BREW|not http|Broken/);
  });

  it("a request that stalls past REQUEST_TIMEOUT_MS is 408 request-timeout and closed, under its request id", async () => {
    const a = await exchange(
      "POST /synthesize HTTP/1.1\r\nHost: x\r\nX-Request-Id: stalled-1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
      15_000,
    );
    expectProblemAnswer(a, 408, "request-timeout");
    expect(a.raw).toContain('"requestId":"stalled-1"');
  });

  it("the refusals are logged as warnings, none as errors, and the gateway keeps serving", async () => {
    const levels = logLines.map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(levels.filter((l) => l.msg === "request refused by the HTTP parser").length).toBeGreaterThanOrEqual(7);
    expect(levels.filter((l) => l.level >= 50)).toEqual([]);
    expect((await fetch(gw.url + "/healthz")).status).toBe(200);
  });
});

describe("serverTimeouts", () => {
  it("keeps the headers' timeout within the request's (Node refuses it otherwise) and checks often", () => {
    expect(serverTimeouts(1_000)).toEqual({ requestTimeout: 1_000, headersTimeout: 1_000, connectionsCheckingInterval: 250 });
    expect(serverTimeouts(120_000)).toEqual({ requestTimeout: 120_000, headersTimeout: 60_000, connectionsCheckingInterval: 1_000 });
  });
});
