// Clients that misbehave at the socket level: an upload cut off half-way, an upload that
// trickles in, one that stalls for good, and hundreds of connections that never send a byte.
// None of them may hang the gateway (others are served meanwhile), leave a temp file in the
// data directory or the process's temp directory, or store a half voice; a stalled upload is
// cut by the request timeout.
import { mkdirSync, mkdtempSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listTree, strayDataFiles } from "./helpers/files.ts";
import { call, openSocket, PROBLEM_PREFIX, PROMPT_WAV, rawJson, readRaw, voiceForm, type RawAnswer } from "./helpers/http.ts";
import { startGateway, type Gateway } from "./helpers/stack.ts";

const REQUEST_TIMEOUT_MS = 3_000;
const BOUNDARY = "----faultsuite";
let gw: Gateway;
let standin: StandinHandle;
let uploadTmp: string;
let savedTmpdir: string | undefined;
let stalled: { socket: Socket; answer: Promise<RawAnswer>; openedAt: number };

const multipartHead = (name: string) =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\n${name}\r\n` +
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n`;
const multipartTail = `\r\n--${BOUNDARY}--\r\n`;

function uploadHead(contentLength: number): string {
  return `POST /voices HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${contentLength}\r\n\r\n`;
}

async function savedVoices(): Promise<number> {
  const a = await call(gw.url + "/voices");
  return (a.json as { voices: unknown[] }).voices.length;
}

beforeAll(async () => {
  // Uploads are checked and stored by the gateway alone; the backend is there for GET /voices.
  // It starts before TMPDIR changes below, so its own temp files stay out of the checked dir.
  standin = await startStandin({ variant: "official", model: "cosyvoice3" });
  gw = await startGateway({ backendUrl: standin.url, config: { requestTimeoutMs: REQUEST_TIMEOUT_MS, maxUploadBytes: 2 * 1024 * 1024 } });
  // The process's temp directory, private and empty from here on, so a temp file left by an
  // upload (a disk-backed multipart parser, a spill file) would show up in it.
  uploadTmp = mkdtempSync(join(tmpdir(), "fault-upload-tmp-"));
  mkdirSync(uploadTmp, { recursive: true });
  savedTmpdir = process.env["TMPDIR"];
  process.env["TMPDIR"] = uploadTmp;
  // A stalled upload, started first so the request timeout runs while the other tests do.
  const s = await openSocket(gw.url);
  const head = multipartHead("Stalled");
  s.write(uploadHead(head.length + PROMPT_WAV.length + multipartTail.length));
  s.write(head);
  s.write(PROMPT_WAV.subarray(0, PROMPT_WAV.length >> 1));
  stalled = { socket: s, answer: readRaw(s, 100_000), openedAt: Date.now() };
});

afterAll(async () => {
  // Workers run several files (isolate: false): the next file gets the usual temp directory.
  if (savedTmpdir === undefined) delete process.env["TMPDIR"];
  else process.env["TMPDIR"] = savedTmpdir;
  stalled?.socket.destroy();
  await gw?.close();
  await standin?.stop();
});

describe("uploads cut off or slow", () => {
  it("an upload aborted half-way stores nothing and the gateway keeps serving", async () => {
    for (let i = 0; i < 5; i++) {
      const s = await openSocket(gw.url);
      const head = multipartHead(`Aborted ${i}`);
      s.write(uploadHead(head.length + PROMPT_WAV.length + multipartTail.length));
      s.write(head);
      s.write(PROMPT_WAV.subarray(0, (PROMPT_WAV.length * (i + 1)) / 6));
      await new Promise((r) => setTimeout(r, 30));
      s.destroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(await savedVoices()).toBe(0);
    expect((await call(gw.url + "/healthz")).status).toBe(200);
  });

  it("an upload that trickles in (about 1.5 s) is still served, and others are served meanwhile", async () => {
    const s = await openSocket(gw.url);
    const answer = readRaw(s, 20_000);
    const body = Buffer.concat([Buffer.from(multipartHead("Trickle")), PROMPT_WAV, Buffer.from(multipartTail)]);
    s.write(uploadHead(body.length));
    const pieces = 15;
    for (let i = 0; i < pieces; i++) {
      s.write(body.subarray(Math.floor((body.length * i) / pieces), Math.floor((body.length * (i + 1)) / pieces)));
      if (i === 5) expect((await call(gw.url + "/healthz")).status).toBe(200);
      await new Promise((r) => setTimeout(r, 100));
    }
    const a = await answer;
    s.destroy();
    expect(a.status, a.raw.slice(0, 300)).toBe(201);
    expect(await savedVoices()).toBe(1);
  });

  it("a normal upload works while the stalled one hangs on", async () => {
    const a = await call(gw.url + "/voices", { method: "POST", body: voiceForm({ audio: PROMPT_WAV, name: "Normal" }) });
    expect(a.status, a.text).toBe(201);
  });
});

describe("many idle connections", () => {
  it("500 silent connections and 50 with half a request head do not stop the gateway serving", async () => {
    const idle: Socket[] = [];
    try {
      for (let i = 0; i < 550; i++) {
        const s = await openSocket(gw.url);
        s.on("error", () => undefined);
        if (i >= 500) s.write("GET /voices HTTP/1.1\r\nHost: x\r\nX-Slow: ");
        idle.push(s);
      }
      const answers = await Promise.all([
        call(gw.url + "/healthz"),
        call(gw.url + "/voices"),
        call(gw.url + "/voices", { method: "POST", body: voiceForm({ audio: PROMPT_WAV, name: "Among idle" }) }),
      ]);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 201]);
    } finally {
      for (const s of idle) s.destroy();
    }
  });
});

describe("after the socket abuse", () => {
  it("the stalled upload was cut by the request timeout (408 or a closed connection), not kept forever", async () => {
    const a = await stalled.answer;
    // A complete 408 (it has a Content-Length) ends the read before the close arrives; the close
    // must still follow.
    const s = stalled.socket;
    const closed =
      a.closed ||
      s.closed ||
      (await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 10_000);
        s.once("close", () => {
          clearTimeout(timer);
          resolve(true);
        });
      }));
    expect(closed, "the server must close a stalled upload").toBe(true);
    if (a.status !== undefined) {
      expect(a.status).toBe(408);
      expect(a.raw).toMatch(/\r\ncontent-type: application\/problem\+json/i);
      expect((rawJson(a) as { type?: string } | undefined)?.type).toBe(PROBLEM_PREFIX + "request-timeout");
    }
  }, 100_000);

  it("stored exactly the completed uploads, left no temp file in the data or temp directory, nothing outside", async () => {
    expect(await savedVoices()).toBe(3);
    expect(strayDataFiles(gw.dataDir)).toEqual([]);
    expect(listTree(uploadTmp)).toEqual([]);
    expect(listTree(gw.root).filter((p) => p !== "data" && !p.startsWith("data/"))).toEqual([]);
  });
});
