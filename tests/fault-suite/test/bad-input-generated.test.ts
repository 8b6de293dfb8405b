// Bad input generated with fast-check (seeded, bounded): arbitrary JSON, valid bodies with one
// field broken, raw bytes under any content type, hostile ids, random uploads, unknown routes.
// Every generated request is invalid by construction, so every answer must be a 4xx
// problem+json: never a 5xx, never a crash, never a call to the backend, nothing written
// outside the data directory. Well over 1,000 requests in all.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readRecord } from "@cosyvoice3/testkit";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listTree, strayDataFiles } from "./helpers/files.ts";
import { call, cloneVoice, expectProblem, type Answer } from "./helpers/http.ts";
import { startStack, type Stack } from "./helpers/stack.ts";

// One seed for the whole file, so a failure replays; override with FAULTS_SEED to explore.
const SEED = Number(process.env["FAULTS_SEED"] ?? 20_250_501);
const MAX_TEXT = 2_000;

let stack: Stack;
let base: string;
let voice: string;
let callsBefore: number;
let sent = 0;

beforeAll(async () => {
  stack = await startStack({ variant: "official", model: "cosyvoice3" }, { maxJsonBytes: 16 * 1024, maxUploadBytes: 256 * 1024 });
  base = stack.gw.url;
  voice = await cloneVoice(base);
  writeFileSync(join(stack.gw.root, "canary.txt"), "CANARY");
  callsBefore = readRecord(stack.standin.record).filter((e) => e.event === "call").length;
});

afterAll(async () => {
  await stack?.close();
});

async function send(path: string, init?: RequestInit): Promise<Answer> {
  sent++;
  return call(base + path, init);
}

/** The property every generated request must satisfy. */
function refused(a: Answer): boolean {
  expectProblem(a, "4xx");
  return true;
}

const jsonPost = (body: string | Uint8Array, type = "application/json"): RequestInit => ({
  method: "POST",
  headers: { "content-type": type },
  body: typeof body === "string" ? body : new Blob([body.slice()]),
});

/** A value of any JSON type except the one a field takes (so the body is invalid). */
const notA = (kind: "string" | "number" | "boolean" | "object") =>
  fc.jsonValue({ maxDepth: 2 }).filter((v) => (kind === "object" ? v === null || typeof v !== "object" || Array.isArray(v) : typeof v !== kind));

/** Strings that are never a valid text: empty, blank, or over the cap. */
const badText = fc.oneof(
  fc.constant(""),
  fc.stringMatching(/^[ \t\n\r]{1,20}$/),
  fc.string({ minLength: MAX_TEXT + 1, maxLength: MAX_TEXT + 50, unit: "grapheme-ascii" }),
  notA("string"),
);

/** One breaking change to an otherwise valid body. */
const breakage: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  badText.map((text) => ({ text })),
  notA("string").map((v) => ({ voice: v })),
  fc.constantFrom("", "builtin:", "v_short", "../voices.json").map((v) => ({ voice: v })),
  fc.oneof(fc.double({ max: 0.49, noNaN: true }), fc.double({ min: 2.01, noNaN: true }), notA("number")).map((speed) => ({ speed })),
  fc.oneof(fc.integer({ max: -1 }), fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }), notA("number")).map((seed) => ({ seed })),
  fc.string({ maxLength: 20 }).filter((m) => !["clone", "crossLingual", "pretrained", "instruct"].includes(m)).map((mode) => ({ mode })),
  notA("boolean").filter((v) => v !== undefined).map((stream) => ({ stream })),
  fc.oneof(notA("object"), fc.record({ emotion: fc.string({ maxLength: 10 }) }).filter((o) => !["happy", "sad", "angry", "surprised", "fearful", "disgusted", "serious"].includes(o.emotion))).map((instruct) => ({ instruct, mode: "instruct" })),
  fc
    .tuple(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !["text", "voice", "mode", "instruct", "speed", "seed", "stream"].includes(k)), fc.jsonValue({ maxDepth: 1 }))
    .map(([k, v]) => ({ [k]: v })),
);

describe("generated bodies for POST /synthesize", () => {
  it("arbitrary JSON values are refused with a 4xx problem (250 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (v) => refused(await send("/synthesize", jsonPost(JSON.stringify(v))))),
      { numRuns: 250, seed: SEED },
    );
  });

  it("a valid body with one field broken is refused with a 4xx problem (350 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(breakage, async (patch) => {
        const body = { text: "Hello there.", voice, ...patch };
        return refused(await send("/synthesize", jsonPost(JSON.stringify(body))));
      }),
      { numRuns: 350, seed: SEED + 1 },
    );
  });

  it("raw bytes under any content type are refused with a 4xx problem (200 runs)", async () => {
    const types = fc.constantFrom(
      "application/json",
      "application/json; charset=utf-16",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=zz",
      "audio/wav",
      "application/octet-stream",
      "",
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2_048 }), types, async (bytes, type) =>
        refused(await send("/synthesize", jsonPost(bytes, type))),
      ),
      { numRuns: 200, seed: SEED + 2 },
    );
  });
});

/** Ids made of unicode, separators and traversal pieces, percent-encoded so the URL is valid. */
const hostileId = fc
  .array(
    fc.oneof(
      fc.string({ unit: "binary", minLength: 1, maxLength: 8 }),
      fc.constantFrom("..", "../", "..\\", "/", "%", ".", "~", "\u0000", "voices.json", "a_", "v_", "builtin:", "audio", "canary.txt"),
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((parts) => parts.join(""))
  // A saved voice's or a clip's exact id shape could exist; everything else cannot.
  .filter((id) => !/^(v|a)_[A-Za-z0-9_-]{22}$/.test(id));

describe("generated ids and paths", () => {
  it("hostile voice and audio ids are refused with a 4xx problem (300 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileId,
        fc.constantFrom(["GET", "/voices/"], ["DELETE", "/voices/"], ["GET", "/audio/"]),
        async (id, [method, prefix]) => refused(await send(prefix + encodeURIComponent(id), { method })),
      ),
      { numRuns: 300, seed: SEED + 3 },
    );
    expect(readFileSync(join(stack.gw.root, "canary.txt"), "utf8")).toBe("CANARY");
  });

  it("unknown paths and methods are refused with a 4xx problem (120 runs)", async () => {
    const method = fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    const path = fc
      .array(fc.webSegment(), { minLength: 1, maxLength: 4 })
      .map((s) => "/" + s.join("/"))
      .filter((p) => !/^\/(voices|audio|synthesize|healthz|readyz|docs|openapi\.json)(\/|$)/.test(p) && p !== "/");
    const knownWrongMethod = fc.constantFrom(
      ["PUT", "/voices"],
      ["PATCH", "/synthesize"],
      ["GET", "/synthesize"],
      ["POST", "/audio/a_AAAAAAAAAAAAAAAAAAAAAA"],
      ["PUT", "/voices/v_AAAAAAAAAAAAAAAAAAAAAA"],
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.tuple(method, path), knownWrongMethod), async ([m, p]) => refused(await send(p, { method: m }))),
      { numRuns: 120, seed: SEED + 4 },
    );
  });
});

/** A WAV header (44 bytes) with the given fields, followed by `data`. */
function wavWith(fields: { sampleRate: number; channels: number; bits: number }, data: Uint8Array): Uint8Array {
  const b = Buffer.alloc(44 + data.length);
  b.write("RIFF", 0, "ascii");
  b.writeUInt32LE(36 + data.length, 4);
  b.write("WAVEfmt ", 8, "ascii");
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(fields.channels, 22);
  b.writeUInt32LE(fields.sampleRate, 24);
  b.writeUInt32LE((fields.sampleRate * fields.channels * fields.bits) / 8, 28);
  b.writeUInt16LE((fields.channels * fields.bits) / 8, 32);
  b.writeUInt16LE(fields.bits, 34);
  b.write("data", 36, "ascii");
  b.writeUInt32LE(data.length, 40);
  b.set(data, 44);
  return new Uint8Array(b);
}

describe("generated uploads", () => {
  it("files that are not usable audio are refused with a 4xx problem (150 runs)", async () => {
    const file = fc.oneof(
      fc.uint8Array({ maxLength: 4_096 }),
      // A well-formed WAV at an unusable rate (under 16 kHz).
      fc
        .tuple(fc.integer({ min: 1_000, max: 15_999 }), fc.uint8Array({ minLength: 2_000, maxLength: 8_000 }))
        .map(([sampleRate, data]) => wavWith({ sampleRate, channels: 1, bits: 16 }, data.subarray(0, data.length & ~1))),
      // A header cut short.
      fc.integer({ min: 0, max: 43 }).map((n) => wavWith({ sampleRate: 24_000, channels: 1, bits: 16 }, new Uint8Array(0)).subarray(0, n)),
    );
    const name = fc.oneof(fc.string({ maxLength: 30 }), fc.constant(undefined));
    await fc.assert(
      fc.asyncProperty(file, name, fc.string({ maxLength: 40 }), async (bytes, n, filename) => {
        const form = new FormData();
        if (n !== undefined) form.set("name", n);
        form.set("audio", new Blob([bytes.slice()], { type: "audio/wav" }), filename || "a.wav");
        return refused(await send("/voices", { method: "POST", body: form }));
      }),
      { numRuns: 150, seed: SEED + 5 },
    );
  });
});

describe("after the generated abuse", () => {
  it("sent at least 1,000 generated requests", () => {
    expect(sent).toBeGreaterThanOrEqual(1_000);
  });

  it("the gateway still answers, and none of them reached the backend", async () => {
    expect((await call(base + "/healthz")).status).toBe(200);
    expect(readRecord(stack.standin.record).filter((e) => e.event === "call").length).toBe(callsBefore);
  });

  it("nothing was written outside the data directory, and only the one voice inside it", () => {
    expect(listTree(stack.gw.root).filter((p) => p !== "canary.txt" && p !== "data" && !p.startsWith("data/"))).toEqual([]);
    expect(strayDataFiles(stack.gw.dataDir)).toEqual([]);
    expect(listTree(join(stack.gw.dataDir, "voices", "audio"))).toHaveLength(1);
  });
});
