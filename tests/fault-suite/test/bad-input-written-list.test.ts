// The hand-written list of hostile and broken requests: malformed and huge JSON, wrong types and
// content types, text that is empty, huge or not UTF-8, uploads that are not usable audio,
// ids that try to climb out of the data directory, unknown routes and methods, oversized
// headers. Every answer must be a 4xx problem+json (never a 5xx, never a crash), and nothing
// may be written outside the data directory.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { readRecord, synthWav } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listTree, strayDataFiles } from "./helpers/files.ts";
import {
  call,
  cloneVoice,
  expectNoLeak,
  expectProblem,
  jsonPost,
  PROBLEM_PREFIX,
  PROMPT_WAV,
  rawJson,
  rawRequest,
  voiceForm,
  type Answer,
} from "./helpers/http.ts";
import { startStack, type Stack } from "./helpers/stack.ts";

let stack: Stack;
let base: string;
let voice: string;
let callsBefore: number;
const CANARY = "canary.txt";
const CANARY_TEXT = "CANARY-CONTENT-7f3a";

beforeAll(async () => {
  stack = await startStack({ variant: "official", model: "cosyvoice3" }, { maxJsonBytes: 32 * 1024, maxUploadBytes: 2 * 1024 * 1024 });
  base = stack.gw.url;
  voice = await cloneVoice(base);
  // A file beside the data directory: traversal that reaches it must not read, overwrite or delete it.
  writeFileSync(join(stack.gw.root, CANARY), CANARY_TEXT);
  callsBefore = readRecord(stack.standin.record).filter((e) => e.event === "call").length;
});

afterAll(async () => {
  await stack?.close();
});

const post = (path: string, body: BodyInit, type?: string): Promise<Answer> =>
  call(base + path, { method: "POST", body, headers: type === undefined ? {} : { "content-type": type } });
const synth = (body: unknown) => call(base + "/synthesize", jsonPost(body));

describe("malformed and huge JSON", () => {
  it.each([
    ["truncated object", '{"text": "Hello", "voice":'],
    ["trailing garbage", '{"text": "Hello"} xyz'],
    ["single quotes", "{'text': 'Hello'}"],
    ["a bare string", '"Hello"'],
    ["null", "null"],
    ["NaN literal", '{"text": "Hi.", "voice": "v", "speed": NaN}'],
    ["empty body", ""],
    ["a BOM and nothing", "\uFEFF"],
  ])("%s is a 400", async (_name, body) => {
    expectProblem(await post("/synthesize", body, "application/json"), 400);
  });

  it("a JSON body over the cap is 413 before it is parsed", async () => {
    const body = JSON.stringify({ text: "a".repeat(40 * 1024), voice });
    expectProblem(await post("/synthesize", body, "application/json"), 413, "payload-too-large");
  });

  // body-parser alone reads and discards the whole declared body before its 413, so a client
  // declaring 10 GB got no answer until it had sent it all or the request timeout cut it; the
  // gateway checks the declared length first (json-body.ts).
  it("a Content-Length far larger than the cap is refused with 413 without reading the body", async () => {
    const a = await rawRequest(
      base,
      `POST /synthesize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{"te`,
      5_000,
    );
    expect(a.status).toBe(413);
    expect((rawJson(a) as { type?: string })?.type).toBe(PROBLEM_PREFIX + "payload-too-large");
  });

  it("deeply nested JSON within the size cap is a 400, not a stack overflow", async () => {
    const body = "[".repeat(15_000) + "]".repeat(15_000);
    expectProblem(await post("/synthesize", body, "application/json"), 400);
  });

  it("an array or a number where the object goes is a 400 with a pointer", async () => {
    for (const body of [[], [1, 2], 42, true]) {
      const p = expectProblem(await synth(body), 400);
      expect(p.type).toMatch(/invalid-request|malformed-json/);
    }
  });
});

describe("wrong types and values", () => {
  it.each([
    ["text a number", { text: 5 }, "/text"],
    ["text an array", { text: ["a"] }, "/text"],
    ["text null", { text: null }, "/text"],
    ["voice an object", { voice: { id: "x" } }, "/voice"],
    ["speed a string", { speed: "fast" }, "/speed"],
    ["speed too high", { speed: 50 }, "/speed"],
    ["speed negative", { speed: -1 }, "/speed"],
    ["seed fractional", { seed: 1.5 }, "/seed"],
    ["seed negative", { seed: -3 }, "/seed"],
    ["seed huge", { seed: 1e300 }, "/seed"],
    ["stream a string", { stream: "yes" }, "/stream"],
    ["mode unknown", { mode: "karaoke" }, "/mode"],
    ["instruct a number", { instruct: 7 }, "/instruct"],
    ["an unknown field", { colour: "red" }, ""],
    ["__proto__ smuggled", JSON.parse('{"__proto__": {"admin": true}}') as object, ""],
  ])("%s is a 400 naming the field", async (_name, patch, pointer) => {
    const p = expectProblem(await synth({ text: "Hello there.", voice, ...patch }), 400, "invalid-request");
    expect(p.errors?.length ?? 0).toBeGreaterThan(0);
    if (pointer !== "") expect(p.errors?.map((e) => e.pointer)).toContain(pointer);
  });

  it("a missing text and a missing voice are both named", async () => {
    const p = expectProblem(await synth({}), 400, "invalid-request");
    expect(p.errors?.map((e) => e.pointer)).toEqual(expect.arrayContaining(["/text", "/voice"]));
  });
});

describe("wrong content types", () => {
  const body = JSON.stringify({ text: "Hello.", voice });
  it.each([
    ["text/plain", "text/plain"],
    ["form-urlencoded", "application/x-www-form-urlencoded"],
    ["xml", "application/xml"],
    ["multipart to the JSON route", "multipart/form-data; boundary=x"],
    ["a made-up type", "application/x-cosy"],
  ])("POST /synthesize as %s is 415", async (_name, type) => {
    expectProblem(await post("/synthesize", body, type), 415, "unsupported-media-type");
  });

  it("POST /synthesize without any Content-Type is 415", async () => {
    expectProblem(await post("/synthesize", new Blob([body])), 415);
  });

  it("JSON in a charset other than UTF-8 is 415", async () => {
    expectProblem(await post("/synthesize", body, "application/json; charset=latin1"), 415);
  });

  it("an unknown Content-Encoding is 415", async () => {
    const a = await call(base + "/synthesize", { method: "POST", body, headers: { "content-type": "application/json", "content-encoding": "x-snappy" } });
    expectProblem(a, 415);
  });

  // zlib's "incorrect header check" carries no body-parser `type`; it was once a 500 internal.
  it("a gzip Content-Encoding whose body is not gzip is a 4xx", async () => {
    const a = await call(base + "/synthesize", { method: "POST", body, headers: { "content-type": "application/json", "content-encoding": "gzip" } });
    expectProblem(a, "4xx");
  });

  it("POST /voices as JSON is 415", async () => {
    expectProblem(await post("/voices", JSON.stringify({ name: "x" }), "application/json"), 415);
  });
});

describe("text that is empty, huge or not valid UTF-8", () => {
  it.each([
    ["empty", ""],
    ["only spaces", "    "],
    ["only newlines and tabs", "\n\t\n"],
    ["over the 2,000 character cap", "a".repeat(2_001)],
    ["2,001 emoji (astral characters)", "\u{1F600}".repeat(2_001)],
  ])("text %s is a 400", async (_name, text) => {
    expectProblem(await synth({ text, voice }), 400, "invalid-request");
  });

  // A lenient decoder turns invalid UTF-8 into U+FFFD, and that text was once synthesised (201).
  it("text that is not valid UTF-8 is a 400, not synthesised as replacement characters", async () => {
    const head = Buffer.from(`{"text": "Hello `);
    const tail = Buffer.from(`", "voice": "${voice}"}`);
    const body = Buffer.concat([head, Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), tail]);
    expectProblem(await post("/synthesize", body, "application/json"), 400);
  });

  // A lone surrogate once passed TextSchema, reached the backend and failed there (502).
  it("lone surrogates (escaped in valid JSON) are a 400", async () => {
    const body = `{"text": "Hello \\ud800 there", "voice": "${voice}"}`;
    expectProblem(await post("/synthesize", body, "application/json"), 400);
  });

  // Text with nothing speakable once passed TextSchema; the backend made no audio (502).
  it("control characters only are a 400", async () => {
    expectProblem(await synth({ text: "\u0000\u0001\u0002", voice }), 400);
  });
});

describe("voices and ids", () => {
  it.each([
    ["a well-formed unknown saved id", "v_AAAAAAAAAAAAAAAAAAAAAA"],
    ["an unknown built-in speaker", "builtin:nobody"],
    ["builtin: with no name", "builtin:"],
    ["a traversal", "../../etc/passwd"],
    ["an encoded traversal", "..%2F..%2Fcanary.txt"],
    ["a saved id with a slash", "v_AAAAAAAAAAA/AAAAAAAAAA"],
  ])("synthesis with %s is 404", async (_name, id) => {
    expectProblem(await synth({ text: "Hello.", voice: id }), 404, "voice-not-found");
  });

  const traversals = [
    "..%2F..%2Fetc%2Fpasswd",
    "..%2f" + CANARY,
    "%2e%2e%2f%2e%2e%2f" + CANARY,
    "%2E%2E%5C" + CANARY,
    "..%252F" + CANARY,
    "..%00.json",
    "voices.json",
    "%2e%2e",
    "a".repeat(4_000),
  ];
  it.each(traversals)("GET and DELETE /voices/%s are 4xx and touch nothing", async (id) => {
    for (const method of ["GET", "DELETE"]) expectProblem(await call(`${base}/voices/${id}`, { method }), "4xx");
    expect(readFileSync(join(stack.gw.root, CANARY), "utf8")).toBe(CANARY_TEXT);
  });

  it.each(traversals)("GET and HEAD /audio/%s are 4xx", async (id) => {
    expectProblem(await call(`${base}/audio/${id}`), "4xx");
    const head = await call(`${base}/audio/${id}`, { method: "HEAD" });
    expect(head.status).toBeGreaterThanOrEqual(400);
    expect(head.status).toBeLessThan(500);
  });

  // Express's URIError for a path parameter that is not percent-encoded UTF-8 (status 400) was
  // once answered as a 500 internal problem.
  it("an overlong UTF-8 encoded traversal (%c0%ae) in an id is a 4xx", async () => {
    for (const [method, prefix] of [["GET", "/voices/"], ["DELETE", "/voices/"], ["GET", "/audio/"]] as const) {
      expectProblem(await call(`${base}${prefix}%c0%ae%c0%ae%2f${CANARY}`, { method }), "4xx");
    }
    expect(readFileSync(join(stack.gw.root, CANARY), "utf8")).toBe(CANARY_TEXT);
  });

  it("literal ../ segments (not normalised by a client) go nowhere", async () => {
    for (const path of [`/voices/../../${CANARY}`, `/audio/../voices/voices.json`, `/audio/..%2f..%2f${CANARY}`, `/voices/%2e%2e/%2e%2e/${CANARY}`]) {
      for (const method of ["GET", "DELETE"]) {
        const a = await rawRequest(base, `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        expect(a.status, path).toBeGreaterThanOrEqual(400);
        expect(a.status, path).toBeLessThan(500);
        expect(a.raw).not.toContain(CANARY_TEXT);
        expect((rawJson(a) as { type?: string })?.type ?? "").toMatch(new RegExp("^" + PROBLEM_PREFIX));
      }
    }
    expect(existsSync(join(stack.gw.root, CANARY))).toBe(true);
  });

  it("a built-in voice cannot be deleted and an unknown one is 404", async () => {
    expectProblem(await call(`${base}/voices/builtin:nobody`, { method: "DELETE" }), 404);
  });
});

/**
 * Uploads like a browser does: keeps sending the file until the server answers, then reads the
 * answer. A server that refuses early and resets the connection leaves the client with an error
 * instead of the problem.
 */
async function uploadUntilAnswered(audio: Uint8Array): Promise<{ status?: number | undefined; body?: unknown; error?: string }> {
  const boundary = "----faultsuite413";
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nBig\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n`,
  );
  const body = Buffer.concat([head, audio, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return new Promise((resolve) => {
    let answered = false;
    const req = httpRequest(base + "/voices", {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": body.length },
    });
    req.on("response", (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on("data", (b: Buffer) => parts.push(b));
      res.on("end", () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(parts).toString("utf8") || "null") }));
      res.on("error", (err) => resolve({ status: res.statusCode, error: err.message }));
    });
    req.on("error", (err) => {
      if (!answered) resolve({ error: `no answer: ${err.message}` });
    });
    void (async () => {
      for (let off = 0; off < body.length && !answered && !req.destroyed; off += 64 * 1024) {
        if (!req.write(body.subarray(off, off + 64 * 1024))) await new Promise((r) => req.once("drain", r));
      }
      if (!req.destroyed) req.end();
    })();
  });
}

describe("uploads that are not usable audio", () => {
  const upload = (fields: Parameters<typeof voiceForm>[0]) => call(base + "/voices", { method: "POST", body: voiceForm(fields) });
  const wav8k = synthWav({ sampleRate: 8_000, seconds: 3 });
  const truncated = PROMPT_WAV.subarray(0, 60);
  const zeroSeconds = synthWav({ sampleRate: 24_000, seconds: 0 });
  const tooLong = synthWav({ sampleRate: 16_000, seconds: 31 }); // 0.99 MB: under the size cap, over 30 s

  it.each([
    ["a text file", new TextEncoder().encode("this is not audio at all, just words\n".repeat(50)), 415],
    ["random bytes named .wav", Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251), 415],
    ["a PNG named .wav", Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array<number>(200).fill(0)]), 415],
    ["a RIFF header with nothing after it", new TextEncoder().encode("RIFF\u0000\u0000\u0000\u0000WAVE"), 415],
    ["an empty file", new Uint8Array(0), undefined],
  ])("%s is refused", async (_name, audio, status) => {
    expectProblem(await upload({ audio, name: "Bad", promptText: "Hello." }), status ?? "4xx");
  });

  it("a truncated WAV is refused", async () => {
    expectProblem(await upload({ audio: truncated, name: "Bad" }), "4xx");
  });

  it("8 kHz audio is 422 (the UIs need 16 kHz or more)", async () => {
    expectProblem(await upload({ audio: wav8k, name: "Bad" }), 422, "invalid-audio");
  });

  it("0 s of audio is refused", async () => {
    expectProblem(await upload({ audio: zeroSeconds, name: "Bad" }), "4xx");
  });

  it("31 s of audio is 422 (the UIs take 30 s at most)", async () => {
    expectProblem(await upload({ audio: tooLong, name: "Bad" }), 422, "invalid-audio");
  });

  it("10 minutes of audio is 413 (over the upload cap), an answer the uploading client gets to read", async () => {
    const tenMinutes = synthWav({ sampleRate: 16_000, seconds: 600 });
    const a = await uploadUntilAnswered(tenMinutes);
    expect(a.status, a.error).toBe(413);
    expect(a.body).toMatchObject({ type: PROBLEM_PREFIX + "payload-too-large" });
  });

  it("a form without the file, without a name, or with two files is a 400", async () => {
    expectProblem(await upload({ name: "No file" }), 400);
    expectProblem(await upload({ audio: PROMPT_WAV }), 400);
    const two = voiceForm({ audio: PROMPT_WAV, name: "Two" });
    two.append("audio", new Blob([PROMPT_WAV.slice()], { type: "audio/wav" }), "b.wav");
    expectProblem(await call(base + "/voices", { method: "POST", body: two }), 400);
  });

  it("the file under another field name is a 400", async () => {
    const form = new FormData();
    form.set("name", "X");
    form.set("file", new Blob([PROMPT_WAV.slice()], { type: "audio/wav" }), "a.wav");
    expectProblem(await call(base + "/voices", { method: "POST", body: form }), 400);
  });

  it("a name over 100 characters and an unknown field are 400s", async () => {
    expectProblem(await upload({ audio: PROMPT_WAV, name: "n".repeat(101) }), 400);
    const form = voiceForm({ audio: PROMPT_WAV, name: "X" });
    form.set("admin", "true");
    expectProblem(await call(base + "/voices", { method: "POST", body: form }), 400);
  });

  it("a filename with a traversal is stored under a generated name", async () => {
    const a = await upload({ audio: PROMPT_WAV, name: "Sneaky", filename: `../../${CANARY}` });
    expect(a.status).toBe(201);
    expect(readFileSync(join(stack.gw.root, CANARY), "utf8")).toBe(CANARY_TEXT);
    expect(strayDataFiles(stack.gw.dataDir)).toEqual([]);
    expect((await call(`${base}/voices/${(a.json as { id: string }).id}`, { method: "DELETE" })).status).toBe(204);
  });
});

describe("unknown routes and methods", () => {
  it.each([
    ["GET", "/nope"],
    ["GET", "/voices/v_AAAAAAAAAAAAAAAAAAAAAA/extra"],
    ["POST", "/audio"],
    ["GET", "/.env"],
    ["GET", "/%ff%fe"],
    ["GET", "/gradio_api/info"],
    ["GET", "/config"],
    ["POST", "/healthz"],
  ])("%s %s is 404", async (method, path) => {
    expectProblem(await call(base + path, { method }), 404);
  });

  it.each([
    ["PUT", "/voices"],
    ["PATCH", "/synthesize"],
    ["GET", "/synthesize"],
    ["DELETE", "/audio/a_AAAAAAAAAAAAAAAAAAAAAA"],
    ["POST", "/voices/v_AAAAAAAAAAAAAAAAAAAAAA"],
    ["OPTIONS", "/voices"],
  ])("%s %s is 405 with Allow", async (method, path) => {
    const a = await call(base + path, { method });
    expectProblem(a, 405, "method-not-allowed");
    expect(a.headers.get("allow")).toBeTruthy();
  });

  it("TRACE is refused", async () => {
    const a = await rawRequest(base, "TRACE /voices HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(a.status).toBeGreaterThanOrEqual(400);
    expect(a.status).toBeLessThan(500);
  });
});

// Node's HTTP parser answers these itself, before any middleware runs, unless the server
// installs a `clientError` handler that writes a problem (apps/gateway/src/platform/http/client-error.ts);
// without one each of these got a bare status line with no problem+json body.
describe("requests the HTTP parser refuses", () => {
  const refusedAsProblem = async (raw: string, status: number) => {
    const a = await rawRequest(base, raw);
    expect(a.status, a.raw.slice(0, 200)).toBe(status);
    expect(a.raw).toMatch(/content-type: application\/problem\+json/i);
    expect((rawJson(a) as { type?: string })?.type ?? "").toMatch(new RegExp("^" + PROBLEM_PREFIX));
    expectNoLeak(a.raw);
  };

  it("a 20 KB header is 431 problem+json", async () => {
    await refusedAsProblem(`GET /voices HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, 431);
  });

  it("a 20 KB URL is 431 or 414 problem+json", async () => {
    const a = await rawRequest(base, `GET /voices/${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect([414, 431]).toContain(a.status);
    expect((rawJson(a) as { type?: string })?.type ?? "").toMatch(new RegExp("^" + PROBLEM_PREFIX));
  });

  it("an unknown method is 400 problem+json", async () => {
    await refusedAsProblem("BREW /voices HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  });

  it("a malformed request line is 400 problem+json", async () => {
    await refusedAsProblem("this is not http\r\n\r\n", 400);
  });

  it("conflicting Content-Length and Transfer-Encoding (request smuggling) is 400 problem+json", async () => {
    await refusedAsProblem(
      'POST /synthesize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    );
  });
});

describe("after the abuse", () => {
  it("the gateway still answers and its backend still works", async () => {
    expect((await call(base + "/healthz")).status).toBe(200);
    expect((await call(base + "/readyz")).status).toBe(200);
    const a = await synth({ text: "Still here.", voice });
    expect(a.status, a.text).toBe(201);
  });

  // The invalid UTF-8, lone-surrogate and control-only texts are refused before the backend.
  it("no refused request reached the backend", () => {
    // Only the one good synthesis above made a Gradio call.
    expect(readRecord(stack.standin.record).filter((e) => e.event === "call").length).toBe(callsBefore + 1);
  });

  it("nothing was written outside the data directory, and nothing stray inside it", () => {
    expect(listTree(stack.gw.root).filter((p) => p !== CANARY && p !== "data" && !p.startsWith("data/"))).toEqual([]);
    expect(readFileSync(join(stack.gw.root, CANARY), "utf8")).toBe(CANARY_TEXT);
    expect(strayDataFiles(stack.gw.dataDir)).toEqual([]);
  });

  // Neither 500s (gzip, %c0) nor 502s (surrogates, control characters) from the list above.
  it("no 5xx was logged", () => {
    const errors = stack.gw.logLines.map((l) => JSON.parse(l) as { level: number; msg: string; status?: number }).filter((l) => l.level >= 50);
    expect(errors).toEqual([]);
  });
});
