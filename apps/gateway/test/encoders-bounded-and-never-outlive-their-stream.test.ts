// Encoders are bounded in number and every ffmpeg process is gone (counted in /proc, not by our
// own counter) once its encode settles: after an abort, a consumer that stops early, an input
// that fails, an input that never ends, or ffmpeg itself failing.
import { synthWav } from "@cosyvoice3/testkit";
import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { Encoders } from "../src/service/encode/encoders.ts";
import { EncodeError, EncodersBusyError } from "../src/service/encode/errors.ts";
import { adtsSegments, liveFfmpegChildren } from "./helpers/ffprobe.ts";

const logger = pino({ level: "silent" });
const opts = { from: "aac", to: "mp3", sampleRate: 24_000 } as const;

/** Yields the segments, then hangs until `signal` fires (a job that keeps running). */
async function* endless(parts: Uint8Array[], signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  yield* parts;
  await new Promise((_r, reject) => {
    if (!signal) return;
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

describe("encoders are bounded and never outlive their stream", () => {
  let segments: Buffer[];
  beforeAll(async () => {
    segments = await adtsSegments(synthWav({ sampleRate: 24_000, seconds: 2 }), 2);
  });

  it("refuses past the limit at once with a retry hint, and frees a place on release", () => {
    const encoders = new Encoders({ max: 2, logger });
    const a = encoders.reserve("aac", "mp3");
    encoders.reserve("aac", "opus");
    let err: unknown;
    try {
      encoders.reserve("aac", "flac");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EncodersBusyError);
    expect((err as EncodersBusyError).retryAfterMs).toBeGreaterThan(0);
    a.release();
    a.release(); // idempotent: frees one place, not two
    encoders.reserve("aac", "flac");
    expect(() => encoders.reserve("aac", "wav")).toThrow(EncodersBusyError);
  });

  it("an abort mid-stream kills ffmpeg and the encode rejects with the abort's reason", async () => {
    const encoders = new Encoders({ max: 2, logger });
    const ac = new AbortController();
    const gen = encoders.reserve("aac", "mp3").encode(endless(segments, ac.signal), { ...opts, signal: ac.signal });
    await gen.next();
    expect(encoders.live).toBe(1);
    expect(await liveFfmpegChildren()).toBe(1);
    const reason = new Error("client gone");
    ac.abort(reason);
    await expect((async () => { for (;;) if ((await gen.next()).done) return; })()).rejects.toBe(reason);
    expect(encoders.live).toBe(0);
    expect(encoders.inUse).toBe(0);
    expect(await liveFfmpegChildren()).toBe(0);
  });

  it("a source that fails before its first chunk: the primed ffmpeg is killed, the error comes out", async () => {
    const encoders = new Encoders({ max: 2, logger });
    const boom = new Error("voice not found");
    let fail!: () => void;
    const failing: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({ next: () => new Promise((_r, reject) => (fail = () => reject(boom))) }),
    };
    const gen = encoders.reserve("aac", "mp3").encode(failing, { ...opts, expectedRate: 24_000 });
    const next = gen.next();
    await new Promise((r) => setTimeout(r, 20));
    expect(await liveFfmpegChildren()).toBe(1);
    fail();
    await expect(next).rejects.toBe(boom);
    expect(encoders.live).toBe(0);
    expect(await liveFfmpegChildren()).toBe(0);
  });

  it("an abort while waiting for the first chunk kills the primed ffmpeg", async () => {
    const encoders = new Encoders({ max: 2, logger });
    const ac = new AbortController();
    const gen = encoders.reserve("aac", "opus").encode(endless([], ac.signal), { ...opts, to: "opus", expectedRate: 24_000, signal: ac.signal });
    const next = gen.next();
    await new Promise((r) => setTimeout(r, 50));
    ac.abort(new Error("gone"));
    await expect(next).rejects.toThrow("gone");
    expect(await liveFfmpegChildren()).toBe(0);
  });

  it("a consumer that stops reading early kills ffmpeg and tells the source", async () => {
    const encoders = new Encoders({ max: 2, logger });
    let sourceClosed = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        yield* segments;
        yield* segments;
      } finally {
        sourceClosed = true;
      }
    }
    const gen = encoders.reserve("aac", "mp3").encode(source(), opts);
    await gen.next();
    await gen.return(undefined);
    expect(encoders.live).toBe(0);
    expect(await liveFfmpegChildren()).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(sourceClosed).toBe(true);
  });

  it("a source that fails after audio began: ffmpeg is killed and the source's error comes out", async () => {
    const encoders = new Encoders({ max: 2, logger });
    const boom = Object.assign(new Error("backend died"), { code: "connection" });
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield segments[0]!;
      await new Promise((r) => setTimeout(r, 30));
      throw boom;
    }
    const gen = encoders.reserve("aac", "mp3").encode(failing(), opts);
    await expect((async () => { for await (const _ of gen) void _; })()).rejects.toBe(boom);
    expect(encoders.live).toBe(0);
    expect(await liveFfmpegChildren()).toBe(0);
  });

  it("bytes ffmpeg cannot read fail as EncodeError, and the process is gone", async () => {
    const encoders = new Encoders({ max: 2, logger });
    const garbage = new Uint8Array(4096).fill(0x42);
    await expect(encoders.convert(garbage, { from: "wav", to: "mp3", sampleRate: 24_000 })).rejects.toBeInstanceOf(EncodeError);
    expect(encoders.inUse).toBe(0);
    expect(await liveFfmpegChildren()).toBe(0);
  });

  it("a missing ffmpeg binary is an EncodeError, not a crash", async () => {
    const encoders = new Encoders({ max: 2, logger, ffmpegPath: "/nonexistent/ffmpeg" });
    await expect(encoders.convert(synthWav({ seconds: 0.2 }), { from: "wav", to: "mp3", sampleRate: 24_000 })).rejects.toBeInstanceOf(EncodeError);
    expect(encoders.live).toBe(0);
    expect(encoders.inUse).toBe(0);
  });

  it("an already aborted signal starts no process", async () => {
    const encoders = new Encoders({ max: 2, logger });
    const ac = new AbortController();
    ac.abort(new Error("too late"));
    await expect(encoders.convert(synthWav({ seconds: 0.2 }), { from: "wav", to: "mp3", sampleRate: 24_000, signal: ac.signal })).rejects.toThrow("too late");
    expect(encoders.live).toBe(0);
    expect(encoders.inUse).toBe(0);
  });
});
