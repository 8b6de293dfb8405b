// Streamed AAC segments (as the SDK yields them from Gradio's HLS) become each format as they
// arrive: every output decodes with ffprobe with the right codec and the source's duration, the
// first bytes leave before the input ends, and MP3 pieces concatenate into one valid file.
import { synthWav } from "@cosyvoice3/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Encoders } from "../src/service/encode/encoders.ts";
import { AUDIO_FORMATS, FORMATS, type AudioFormat } from "../src/service/encode/formats.ts";
import { adtsSegments, liveFfmpegChildren, probe } from "./helpers/ffprobe.ts";

const logger = pino({ level: "silent" });

async function* slowly(parts: Uint8Array[], gapMs = 0): AsyncGenerator<Uint8Array> {
  for (const p of parts) {
    yield p;
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
}

async function collect(gen: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of gen) parts.push(p);
  return Buffer.concat(parts);
}

describe("encoders: every format from streamed AAC", () => {
  const encoders = new Encoders({ max: 4, logger });
  let segments: Buffer[];
  let sourceMs: number;
  beforeAll(async () => {
    segments = await adtsSegments(synthWav({ sampleRate: 24_000, seconds: 3 }), 3);
    sourceMs = (await probe(Buffer.concat(segments), "aac")).decodedMs;
  });
  afterAll(async () => {
    expect(await liveFfmpegChildren()).toBe(0);
  });

  it.each(AUDIO_FORMATS.map((f) => [f]))("%s decodes with its codec, the source's rate and duration", async (to: AudioFormat) => {
    const out = await collect(encoders.reserve("aac", to).encode(slowly(segments), { from: "aac", to, sampleRate: 24_000 }));
    const p = await probe(out, FORMATS[to].ext, to === "pcm" ? { sampleRate: 24_000 } : undefined);
    expect(p.codec).toBe(FORMATS[to].codec);
    expect(p.channels).toBe(1);
    expect(p.sampleRate).toBe(FORMATS[to].outputRate(24_000));
    // Encoders pad to whole frames (an MP3 frame at 24 kHz is 24 ms; Opus pre-skip is exact).
    expect(Math.abs(p.decodedMs - sourceMs)).toBeLessThan(80);
    expect(encoders.inUse).toBe(0);
  });

  it.each(AUDIO_FORMATS.filter((f) => f !== "aac").map((f) => [f]))("%s primed at the source's rate: the same audio, nothing out before the first chunk", async (to: AudioFormat) => {
    let fed = false;
    let early = false;
    async function* late(): AsyncGenerator<Uint8Array> {
      await new Promise((r) => setTimeout(r, 150)); // ffmpeg primes meanwhile
      fed = true;
      yield* segments;
    }
    const parts: Uint8Array[] = [];
    for await (const p of encoders.reserve("aac", to).encode(late(), { from: "aac", to, sampleRate: 24_000, expectedRate: 24_000 })) {
      if (!fed) early = true;
      parts.push(p);
    }
    expect(early).toBe(false);
    const p = await probe(Buffer.concat(parts), FORMATS[to].ext, to === "pcm" ? { sampleRate: 24_000 } : undefined);
    expect(p.codec).toBe(FORMATS[to].codec);
    expect(Math.abs(p.decodedMs - sourceMs)).toBeLessThan(to === "mp3" ? 80 : 1);
  });

  it("primed at a rate the source does not have: restarted unprimed, the audio whole at the source's rate", async () => {
    const out = await collect(encoders.reserve("aac", "wav").encode(slowly(segments), { from: "aac", to: "wav", sampleRate: 22_050, expectedRate: 22_050 }));
    const p = await probe(out, "wav");
    expect(p.sampleRate).toBe(24_000);
    expect(p.decodedMs).toBeCloseTo(sourceMs, 0);
    expect(await liveFfmpegChildren()).toBe(0);
  });

  it("sends the first encoded bytes while the input is still open", async () => {
    let released!: () => void;
    const gate = new Promise<void>((r) => (released = r));
    async function* held(): AsyncGenerator<Uint8Array> {
      yield segments[0]!;
      await gate;
      yield* segments.slice(1);
    }
    const gen = encoders.reserve("aac", "mp3").encode(held(), { from: "aac", to: "mp3", sampleRate: 24_000 });
    const first = await gen.next();
    expect(first.done).toBe(false);
    expect((first.value as Uint8Array).byteLength).toBeGreaterThan(0);
    released();
    const rest = await collect({ [Symbol.asyncIterator]: () => gen });
    const p = await probe(Buffer.concat([first.value as Uint8Array, rest]), "mp3");
    expect(Math.abs(p.decodedMs - sourceMs)).toBeLessThan(80);
  });

  it("MP3 pieces encoded apart concatenate into one file whose duration is their sum", async () => {
    const pieces = await Promise.all(
      [segments.slice(0, 2), segments.slice(2)].map((part) =>
        collect(encoders.reserve("aac", "mp3").encode(slowly(part), { from: "aac", to: "mp3", sampleRate: 24_000 })),
      ),
    );
    const each = await Promise.all(pieces.map((b) => probe(b, "mp3")));
    const joined = await probe(Buffer.concat(pieces), "mp3");
    // No Xing/LAME frame, no ID3 tag: nothing but MPEG frames, so the first byte is a frame sync.
    for (const b of pieces) expect([b[0], (b[1] ?? 0) & 0xe0]).toEqual([0xff, 0xe0]);
    expect(joined.codec).toBe("mp3");
    expect(joined.decodedMs).toBeCloseTo(each[0]!.decodedMs + each[1]!.decodedMs, 0);
    // CBR without a header: the size-based estimate players show agrees with the samples.
    expect(Math.abs(joined.probedMs! - joined.decodedMs)).toBeLessThan(50);
  });

  it("converts a stored WAV clip whole", async () => {
    const wav = synthWav({ sampleRate: 22_050, seconds: 2 });
    const mp3 = await encoders.convert(wav, { from: "wav", to: "mp3", sampleRate: 22_050 });
    const p = await probe(mp3, "mp3");
    expect(p).toMatchObject({ codec: "mp3", sampleRate: 22_050 });
    expect(Math.abs(p.decodedMs - 2000)).toBeLessThan(80);
  });

  it("passes AAC through as it came when AAC is asked for, without an encoder", async () => {
    const ticket = encoders.reserve("aac", "aac");
    expect(encoders.inUse).toBe(0);
    expect(await collect(ticket.encode(slowly(segments), { from: "aac", to: "aac", sampleRate: 24_000 }))).toEqual(Buffer.concat(segments));
  });
});
