// GET /audio/{id}?format=mp3 (and the other formats) converts a stored clip, WAV or streamed
// AAC, once: later and concurrent requests share that one conversion, and the copy is served
// like any clip (ETag, Range). The clip's own format is the clip itself.
import { synthWav } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FORMATS } from "../src/service/encode/formats.ts";
import { liveFfmpegChildren, probe } from "./helpers/ffprobe.ts";
import { SDK_READY, SDK_SKIP_REASON, startFullStack, type FullStack } from "./helpers/full-stack.ts";
import { jsonPost, voiceForm } from "./helpers/harness.ts";

const conversions = (lines: string[]) => lines.filter((l) => l.includes('"msg":"clip converted"')).length;

describe.skipIf(!SDK_READY)(`GET /audio/{id}?format=${SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`}`, () => {
  let stack: FullStack;
  let wavUrl: string;
  let wavMs: number;
  let aacId: string;
  beforeAll(async () => {
    stack = await startFullStack({ variant: "cv3-en", model: "cosyvoice3" });
    const voice = (await stack.gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav({ seconds: 3 }), name: "V", promptText: "I like long walks." }) })).json.id;
    const clip = await stack.gw.api("/synthesize", jsonPost({ text: "The sky is clear today. Let us go out.", voice }));
    wavUrl = clip.json.url;
    wavMs = (await probe((await stack.gw.api(wavUrl)).bytes, "wav")).decodedMs;
    const streamed = await stack.gw.api("/synthesize", jsonPost({ text: "The sky is clear today. Let us go out.", voice, stream: true }));
    aacId = streamed.headers.get("x-audio-id")!;
  });
  afterAll(() => stack?.close());

  it("a WAV clip as mp3: converted once, then the copy is served with its ETag and Range", async () => {
    const before = conversions(stack.gw.logLines);
    const [a, b] = await Promise.all([stack.gw.api(`${wavUrl}?format=mp3`), stack.gw.api(`${wavUrl}?format=mp3`)]);
    expect(a.status).toBe(200);
    expect(a.headers.get("content-type")).toBe("audio/mpeg");
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    const p = await probe(a.bytes, "mp3");
    expect(p.codec).toBe("mp3");
    expect(Math.abs(p.decodedMs - wavMs)).toBeLessThan(100);
    const again = await stack.gw.api(`${wavUrl}?format=mp3`, { headers: { "if-none-match": a.headers.get("etag")! } });
    expect(again.status).toBe(304);
    const part = await stack.gw.api(`${wavUrl}?format=mp3`, { headers: { range: "bytes=0-99" } });
    expect(part.status).toBe(206);
    expect(Buffer.from(part.bytes).equals(Buffer.from(a.bytes.subarray(0, 100)))).toBe(true);
    expect(conversions(stack.gw.logLines) - before).toBe(1);
    expect(a.headers.get("etag")).not.toBe((await stack.gw.api(wavUrl, { method: "HEAD" })).headers.get("etag"));
  });

  it.each(["opus", "flac", "pcm", "aac"] as const)("a WAV clip as %s decodes with its codec", async (format) => {
    const res = await stack.gw.api(`${wavUrl}?format=${format}`);
    expect(res.status).toBe(200);
    const rate = FORMATS[format].outputRate(24_000);
    const p = await probe(res.bytes, FORMATS[format].ext, format === "pcm" ? { sampleRate: rate } : undefined);
    expect(p.codec).toBe(FORMATS[format].codec);
    expect(Math.abs(p.decodedMs - wavMs)).toBeLessThan(100);
  });

  it("a streamed (AAC) clip as wav", async () => {
    const res = await stack.gw.api(`/audio/${aacId}?format=wav`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/wav");
    expect((await probe(res.bytes, "wav")).codec).toBe("pcm_s16le");
  });

  it("the clip's own format is the clip itself, without a conversion", async () => {
    const before = conversions(stack.gw.logLines);
    const plain = await stack.gw.api(wavUrl);
    const same = await stack.gw.api(`${wavUrl}?format=wav`);
    expect(same.headers.get("etag")).toBe(plain.headers.get("etag"));
    expect((await stack.gw.api(`/audio/${aacId}?format=aac`)).headers.get("content-type")).toBe("audio/aac");
    expect(conversions(stack.gw.logLines)).toBe(before);
  });

  it("a converted copy (here: pcm, which has no header) converts again", async () => {
    const { convertedId } = await import("../src/service/encode/converted-clips.ts");
    const clip = (await stack.gw.audio.stat(wavUrl.split("/").at(-1)!))!;
    const res = await stack.gw.api(`/audio/${convertedId(clip, "pcm")}?format=wav`);
    expect(res.status).toBe(200);
    expect(Math.abs((await probe(res.bytes, "wav")).decodedMs - wavMs)).toBeLessThan(100);
  });

  it("an unknown format is 400 naming the formats, an unknown clip still 404", async () => {
    const bad = await stack.gw.api(`${wavUrl}?format=ogg`);
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0]).toMatchObject({ pointer: "/format" });
    expect(bad.json.errors[0].detail).toContain("mp3, opus, aac, flac, wav, pcm");
    expect((await stack.gw.api("/audio/a_AAAAAAAAAAAAAAAAAAAAAA?format=mp3")).status).toBe(404);
    expect(await liveFfmpegChildren()).toBe(0);
  });
});
