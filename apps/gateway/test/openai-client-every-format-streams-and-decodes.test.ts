// The official `openai` npm client against the gateway in front of the real stand-in UI: every
// response_format decodes (ffprobe) with its codec and the duration of the backend's own WAV of
// the same text, the body streams before the UI's job has finished, and SSE carries the format
// in base64 deltas ending with usage.
import { readRecord, synthWav } from "@cosyvoice3/testkit";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIO_FORMATS, FORMATS, type AudioFormat } from "../src/service/encode/formats.ts";
import { liveFfmpegChildren, probe } from "./helpers/ffprobe.ts";
import { SDK_READY, SDK_SKIP_REASON, startFullStack, type FullStack } from "./helpers/full-stack.ts";
import { jsonPost, voiceForm } from "./helpers/harness.ts";

const TEXT = "The sky is clear today. Let us go for a walk. We can take the long road by the river.";

describe.skipIf(!SDK_READY)(`openai client: every format${SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`}`, () => {
  let stack: FullStack;
  let client: OpenAI;
  let wavMs: number;
  beforeAll(async () => {
    stack = await startFullStack({ variant: "cv3-en", model: "cosyvoice3", chunkDelayMs: 300 }, { voiceAliases: { alloy: "Cara" } });
    const created = await stack.gw.api("/voices", {
      method: "POST",
      body: voiceForm({ audio: synthWav({ sampleRate: 24_000, seconds: 3, f0: 220 }), name: "Cara", promptText: "I like long walks." }),
    });
    expect(created.status).toBe(201);
    // The reference: the UI's own whole WAV of the same text and voice, through REST.
    const clip = await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice: created.json.id }));
    expect(clip.status).toBe(201);
    const wav = await stack.gw.api(clip.json.url);
    wavMs = (await probe(wav.bytes, "wav")).decodedMs;
    expect(wavMs).toBeGreaterThan(2000);
    client = new OpenAI({ apiKey: "unused-without-API_KEYS", baseURL: `${stack.gw.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it.each(AUDIO_FORMATS.map((f) => [f]))("response_format %s: the codec, and the WAV's duration", async (format: AudioFormat) => {
    const res = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: TEXT, response_format: format });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const rate = Number(res.headers.get("x-sample-rate"));
    expect(rate).toBe(FORMATS[format].outputRate(24_000));
    expect(res.headers.get("content-type")).toBe(format === "pcm" ? "audio/pcm;rate=24000;channels=1;encoding=s16le" : FORMATS[format].mimeType);
    const p = await probe(bytes, FORMATS[format].ext, format === "pcm" ? { sampleRate: rate } : undefined);
    expect(p.codec).toBe(FORMATS[format].codec);
    expect(p.sampleRate).toBe(rate);
    expect(p.channels).toBe(1);
    // MP3 pads to whole 24 ms frames plus the encoder's delay; the rest are within a frame.
    expect(Math.abs(p.decodedMs - wavMs)).toBeLessThan(100);
  });

  it("the default format is mp3 (what Open WebUI gets when it sends only input, voice and model)", async () => {
    const res = await fetch(`${stack.gw.url}/v1/audio/speech`, jsonPost({ input: "Hello there.", voice: "alloy", model: "tts-1" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    expect((await probe(new Uint8Array(await res.arrayBuffer()), "mp3")).codec).toBe("mp3");
  });

  it("response.body streams: the first bytes arrive while the UI is still generating", async () => {
    const res = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: TEXT, response_format: "mp3" });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    // The job of this request is the last call; when the client holds its first bytes, the UI has
    // not finished it (the record, not a clock: how late this read runs depends on the machine's load).
    const rec = readRecord(stack.standin.record);
    const job = rec.filter((e) => e.event === "call" && e["fn"] === "generate_audio").at(-1)!["job"];
    expect(rec.some((e) => e["job"] === job && (e.event === "done" || e.event === "cancelled"))).toBe(false);
    while (!(await reader.read()).done) {
      // to the end
    }
    expect(readRecord(stack.standin.record).some((e) => e["job"] === job && e.event === "done")).toBe(true);
  });

  it("stream_format sse: base64 deltas of the format, then done with usage", async () => {
    const res = await client.audio.speech.create({ model: "gpt-4o-mini-tts", voice: "alloy", input: TEXT, response_format: "opus", stream_format: "sse" });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const text = await res.text();
    const events = text
      .split("\n\n")
      .filter((e) => e.startsWith("data: "))
      .map((e) => JSON.parse(e.slice("data: ".length)) as { type: string; audio?: string; usage?: Record<string, number> });
    const deltas = events.filter((e) => e.type === "speech.audio.delta");
    expect(deltas.length).toBeGreaterThan(1);
    expect(events.at(-1)).toMatchObject({ type: "speech.audio.done", usage: { input_tokens: TEXT.length } });
    const usage = events.at(-1)!.usage!;
    expect(usage["total_tokens"]).toBe(usage["input_tokens"]! + usage["output_tokens"]!);
    expect(usage["output_tokens"]).toBeCloseTo((wavMs / 1000) * 25, -1);
    const audio = Buffer.concat(deltas.map((d) => Buffer.from(d.audio!, "base64")));
    const p = await probe(audio, "opus");
    expect(p.codec).toBe("opus");
    expect(Math.abs(p.decodedMs - wavMs)).toBeLessThan(100);
  });

  it("instructions become an instruct2 job with the saved voice's prompt audio", async () => {
    const res = await client.audio.speech.create({ model: "gpt-4o-mini-tts", voice: "Cara", input: "Good morning to you.", instructions: "Speak like a pirate." });
    expect((await probe(new Uint8Array(await res.arrayBuffer()), "mp3")).codec).toBe("mp3");
    const call = readRecord(stack.standin.record).filter((e) => e.event === "call" && e["fn"] === "generate_audio").at(-1)!;
    const inputs = call["inputs"] as Record<string, { value: unknown }>;
    expect(inputs["mode_checkbox_group"]?.value).toBe("Instruct");
    expect(String(inputs["instruct_text"]?.value)).toContain("Speak like a pirate.");
    expect(call["prompt_wav_upload"]).not.toBeNull();
  });

  it("leaves no encoder running", async () => {
    expect(stack.gw.config.maxEncoders).toBeGreaterThan(0);
    expect(await liveFfmpegChildren()).toBe(0);
  });

  it("every encoder was primed at the rate the UI streams at, 24000 Hz (CosyVoice 3): none had to restart", () => {
    expect(stack.gw.logLines.filter((l) => l.includes("ffmpeg primed at another rate"))).toEqual([]);
  });
});
