import type { Socket } from "node:net";
import { openSocket } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { startTestGateway, type TestGateway } from "./helpers/harness.ts";
import { makeWav } from "./helpers/wav.ts";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ backend: new FakeBackend(), config: { maxUploadBytes: 200_000, maxJsonBytes: 1024 } });
});
afterAll(() => gw.close());

const open = (): Promise<Socket> => openSocket(gw.url);

/** The response as far as its head, or all of it when the server closes first. */
function readAll(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    let out = "";
    s.on("data", (b) => {
      out += b.toString("latin1");
      if (/\r\n\r\n[\s\S]*"status"/.test(out)) resolve(out);
    });
    s.on("close", () => resolve(out));
    s.on("error", () => resolve(out));
  });
}

const BOUNDARY = "----gatewaytest";
function multipartHead(): string {
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\nSlow\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n`;
}

describe("aborted multipart upload", () => {
  it("stores nothing and keeps serving when the client hangs up mid-file", async () => {
    const before = (await gw.voices.list()).length;
    const s = await open();
    const wav = Buffer.from(makeWav({ seconds: 2 }));
    const head = multipartHead();
    s.write(
      `POST /voices HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${head.length + wav.length + 100}\r\n\r\n`,
    );
    s.write(head);
    s.write(wav.subarray(0, 20_000));
    await new Promise((r) => setTimeout(r, 50));
    s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await gw.voices.list()).length).toBe(before);
    expect((await gw.api("/healthz")).status).toBe(200);
  });

  it("a truncated multipart body (closing boundary missing) is 400", async () => {
    const s = await open();
    const done = readAll(s);
    const body = multipartHead() + "RIFFxxxx";
    s.write(
      `POST /voices HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const res = await done;
    expect(res).toMatch(/^HTTP\/1\.1 400/);
    expect(res).toContain("application/problem+json");
  });
});

describe("chunked body bypass scenarios", () => {
  it("a chunked upload over the file cap is 413 without Content-Length to go by, and nothing is stored", async () => {
    const s = await open();
    const done = readAll(s);
    s.write(`POST /voices HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = (data: Buffer | string) => s.write(`${Buffer.byteLength(data).toString(16)}\r\n`) && s.write(data) && s.write("\r\n");
    chunk(multipartHead());
    const wav = Buffer.from(makeWav({ sampleRate: 48_000, seconds: 5 }));
    for (let i = 0; i < wav.length && !s.destroyed; i += 16_384) chunk(wav.subarray(i, i + 16_384));
    // multer drains the rest of an oversized body before answering; the server's requestTimeout
    // bounds a body that never ends.
    chunk(`\r\n--${BOUNDARY}--\r\n`);
    s.write("0\r\n\r\n");
    const res = await Promise.race([done, new Promise<string>((r) => setTimeout(() => r(""), 5000))]);
    s.destroy();
    expect(res).toMatch(/^HTTP\/1\.1 413/);
    expect((await gw.voices.list()).map((v) => v.name)).not.toContain("Slow");
  });

  it("a chunked JSON body over the cap is 413", async () => {
    const s = await open();
    const done = readAll(s);
    s.write(`POST /synthesize HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const payload = JSON.stringify({ text: "x".repeat(4000), voice: "builtin:中文女" });
    s.write(`${Buffer.byteLength(payload).toString(16)}\r\n${payload}\r\n0\r\n\r\n`);
    expect(await done).toMatch(/^HTTP\/1\.1 413/);
  });
});
