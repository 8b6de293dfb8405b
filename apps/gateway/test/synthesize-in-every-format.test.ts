// REST's POST /synthesize in the other formats: `format` (or an Accept of an audio type) streams
// the backend's chunks encoded as they come; a stored clip asked for in a format comes back
// converted, its url serving that format. The backend's own AAC stays the stored clip.
import { request } from "node:http";
import { synthWav } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FORMATS, type AudioFormat } from "../src/service/encode/formats.ts";
import { isAdts } from "./helpers/clip.ts";
import { liveFfmpegChildren, probe } from "./helpers/ffprobe.ts";
import { SDK_READY, SDK_SKIP_REASON, startFullStack, type FullStack } from "./helpers/full-stack.ts";
import { jsonPost, voiceForm } from "./helpers/harness.ts";

const TEXT = "The sky is clear today. Let us go out.";

describe.skipIf(!SDK_READY)(`POST /synthesize in every format${SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`}`, () => {
  let stack: FullStack;
  let voice: string;
  let wavMs: number;
  beforeAll(async () => {
    stack = await startFullStack({ variant: "cv3-en", model: "cosyvoice3" });
    voice = (await stack.gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav({ seconds: 3 }), name: "V", promptText: "I like long walks." }) })).json.id;
    const clip = await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice }));
    wavMs = (await probe((await stack.gw.api(clip.json.url)).bytes, "wav")).decodedMs;
  });
  afterAll(() => stack?.close());

  it.each(["mp3", "opus", "flac", "wav", "pcm"] as AudioFormat[])("stream with format %s: encoded as it comes, the clip kept as AAC", async (format) => {
    const res = await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice, stream: true, format }));
    expect(res.status).toBe(200);
    const rate = Number(res.headers.get("x-sample-rate"));
    const p = await probe(res.bytes, FORMATS[format].ext, format === "pcm" ? { sampleRate: rate } : undefined);
    expect(p.codec).toBe(FORMATS[format].codec);
    expect(Math.abs(p.decodedMs - wavMs)).toBeLessThan(100);
    const id = res.headers.get("x-audio-id")!;
    expect(res.headers.get("content-location")).toBe(`/audio/${id}?format=${format}`);
    const kept = await stack.gw.api(`/audio/${id}`);
    expect(kept.headers.get("content-type")).toBe("audio/aac");
    expect(isAdts(kept.bytes)).toBe(true);
  });

  it.each([
    ["audio/mpeg", "mp3"],
    ["audio/ogg", "opus"],
    ["audio/flac", "flac"],
    ["audio/wav", "wav"],
  ] as const)("Accept: %s streams %s", async (accept, format) => {
    const res = await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice }, { accept }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")?.split(";")[0]).toBe(accept);
    expect((await probe(res.bytes, FORMATS[format].ext)).codec).toBe(FORMATS[format].codec);
  });

  it("Accept: audio/* still streams the backend's own AAC, unconverted", async () => {
    const res = await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice }, { accept: "audio/*" }));
    expect(res.headers.get("content-type")).toBe("audio/aac");
    expect(isAdts(res.bytes)).toBe(true);
  });

  it("stored with format mp3: the 201 describes the MP3 and its url serves it", async () => {
    const res = await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice, format: "mp3" }));
    expect(res.status).toBe(201);
    expect(res.json.url).toBe(`/audio/${res.json.id}?format=mp3`);
    expect(res.json.mimeType).toBe("audio/mpeg");
    const mp3 = await stack.gw.api(res.json.url);
    expect(mp3.headers.get("content-type")).toBe("audio/mpeg");
    expect(mp3.bytes.length).toBe(res.json.bytes);
    expect(Math.abs((await probe(mp3.bytes, "mp3")).decodedMs - wavMs)).toBeLessThan(100);
    // The clip itself is still the WAV.
    expect((await stack.gw.api(`/audio/${res.json.id}`)).headers.get("content-type")).toBe("audio/wav");
  });

  // Hundreds of kilobytes of WAV into a socket the client does not read for a while: the
  // gateway waits for drain (on the client's signal, not the job's, which ends before the
  // encoder has written everything) and sends it all.
  const LONG = Array.from({ length: 2 }, () => TEXT).join(" ");
  it.each([
    ["/synthesize", { text: LONG, stream: true, format: "wav" }],
    ["/v1/audio/speech", { input: LONG, response_format: "wav" }],
  ] as const)("%s: a client that reads slowly still gets the whole encoded stream", async (path, body) => {
    const payload = JSON.stringify({ ...body, voice });
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      const req = request(stack.gw.url + path, { method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } }, (res) => {
        const parts: Buffer[] = [];
        res.pause();
        // Not reading while the job runs to its end: the rest waits in the gateway's buffers.
        setTimeout(() => {
          res.on("data", (b: Buffer) => parts.push(b));
          res.on("end", () => resolve(Buffer.concat(parts)));
          res.on("error", reject);
          res.resume();
        }, 2_000);
      });
      req.on("error", reject);
      req.end(payload);
    });
    const whole = await probe((await stack.gw.api((await stack.gw.api("/synthesize", jsonPost({ text: LONG, voice }))).json.url)).bytes, "wav");
    expect(whole.decodedMs).toBeGreaterThan(4_000);
    expect(Math.abs((await probe(bytes, "wav")).decodedMs - whole.decodedMs)).toBeLessThan(100);
  });

  it("an unknown format is a 400 naming the formats", async () => {
    const res = await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice, format: "ogg" }));
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json.errors)).toContain("mp3, opus, aac, flac, wav, pcm");
    expect(await liveFfmpegChildren()).toBe(0);
  });
});
