// The gateway in front of CosyVoice's official FastAPI server (the stand-in's `--serve fastapi`),
// named by its scheme: every mode the model has, with CosyVoice3's prompt conventions added; a
// mode or speed the server lacks refused before anything is sent; the box's PCM bit for bit
// through /v1 (pcm, wav, flac decoded) and REST (WAV), against the sha256 the stand-in recorded
// of what it sent; a client that leaves and a deadline both end the job on the box.
import { saveVoice } from "./helpers/voices.ts";
import { spawnSync } from "node:child_process";
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonPost } from "./helpers/harness.ts";
import { startPoolGateway, type PoolGateway } from "./helpers/pool-stack.ts";
import { calls, ends, lastEnd, sha } from "./helpers/box-record.ts";

const PREFIX = "You are a helpful assistant.<|endofprompt|>";
const TEXT = "The sky is clear today. Let us go for a walk.";

/** Decodes any audio file to raw s16le mono at its own rate (ffmpeg), for a bit-exact comparison. */
function decodeToPcm(bytes: Uint8Array, ext: string): Buffer {
  const r = spawnSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-f", ext, "-i", "pipe:0", "-f", "s16le", "-c:a", "pcm_s16le", "pipe:1"], { input: bytes, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr.toString()}`);
  return r.stdout;
}


describe("a CosyVoice3 FastAPI box (fastapi+http://)", () => {
  let box: StandinHandle;
  let stack: PoolGateway;
  let voiceId: string;
  beforeAll(async () => {
    box = await startStandin({ serve: "fastapi", model: "cosyvoice3", chunkDelayMs: 150, startTimeoutMs: 240_000 });
    stack = await startPoolGateway([`fastapi+${box.url}`], { model: "cosyvoice3" });
    voiceId = await saveVoice(stack.gw, { name: "Cara", promptText: "I like long walks.", f0: 200 });
  }, 300_000);
  afterAll(async () => {
    await stack?.close();
    await box?.stop();
  });

  it("clone: the CosyVoice3 prefix is added to the transcript; REST's WAV holds the box's PCM bit for bit", async () => {
    const before = ends(box.record).length;
    const res = await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice: voiceId, mode: "clone" }));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ mimeType: "audio/wav", sampleRate: 24_000, mode: "clone" });
    const end = await lastEnd(box.record, before);
    expect(end).toMatchObject({ endpoint: "/inference_zero_shot", prompt_text: PREFIX + "I like long walks.", tts_text: TEXT, outcome: "complete" });
    const wav = await stack.gw.api(res.json.url);
    expect(wav.status).toBe(200);
    expect(sha(wav.bytes.subarray(44))).toBe(end["pcm_sha256"]);
    expect(decodeToPcm(wav.bytes, "wav").equals(Buffer.from(wav.bytes.subarray(44)))).toBe(true);
  });

  it("cross-lingual: the prefix goes before the text, as CosyVoice3 needs", async () => {
    const before = ends(box.record).length;
    const res = await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice: voiceId, mode: "crossLingual" }));
    expect(res.status).toBe(201);
    expect(await lastEnd(box.record, before)).toMatchObject({ endpoint: "/inference_cross_lingual", tts_text: PREFIX + TEXT, outcome: "complete" });
  });

  it("instruct is instruct2 with the saved voice's prompt audio and the CosyVoice3 instruction", async () => {
    const before = ends(box.record).length;
    const res = await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice: voiceId, instruct: "Speak slowly." }));
    expect(res.status).toBe(201);
    expect(await lastEnd(box.record, before)).toMatchObject({
      endpoint: "/inference_instruct2",
      instruct_text: "You are a helpful assistant. Speak slowly.<|endofprompt|>",
      outcome: "complete",
    });
  });

  it("a mode the box lacks (built-in speakers) and a speed it cannot apply are refused before anything is sent", async () => {
    const before = calls(box.record).length;
    const pretrained = await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice: "builtin:中文女", mode: "pretrained" }));
    expect([404, 422]).toContain(pretrained.status);
    const speed = await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice: voiceId, speed: 1.5 }));
    expect(speed.status).toBe(422);
    expect(speed.json.detail).toMatch(/no speed parameter/);
    expect(calls(box.record).length).toBe(before);
  });

  it.each([
    ["pcm", "s16le"],
    ["wav", "wav"],
    ["flac", "flac"],
  ])("/v1/audio/speech as %s decodes to exactly what the box sent", async (format, ext) => {
    const before = ends(box.record).length;
    const res = await fetch(`${stack.gw.url}/v1/audio/speech`, jsonPost({ model: "tts-1", input: TEXT, voice: voiceId, response_format: format }));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-sample-rate")).toBe("24000");
    const bytes = new Uint8Array(await res.arrayBuffer());
    const end = await lastEnd(box.record, before);
    expect(end["outcome"]).toBe("complete");
    const pcm = format === "pcm" ? Buffer.from(bytes) : decodeToPcm(bytes, ext);
    expect(pcm.byteLength).toBe(end["pcm_bytes"]);
    expect(sha(pcm)).toBe(end["pcm_sha256"]);
  });

  it("a client that goes away mid-stream closes the connection: the box records client_closed", async () => {
    const before = ends(box.record).length;
    const ctl = new AbortController();
    const long = Array.from({ length: 12 }, (_, i) => `This is sentence number ${i + 1}.`).join(" ");
    const res = await fetch(`${stack.gw.url}/v1/audio/speech`, { ...jsonPost({ model: "tts-1", input: long, voice: voiceId, response_format: "pcm" }), signal: ctl.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    ctl.abort();
    const end = await lastEnd(box.record, before);
    expect(end["outcome"]).toBe("client_closed");
    expect(end["chunks"] as number).toBeLessThan(12);
  });
});

describe("a deadline ends the job on a FastAPI box", () => {
  let box: StandinHandle;
  let stack: PoolGateway;
  beforeAll(async () => {
    box = await startStandin({ serve: "fastapi", model: "cosyvoice1", chunkDelayMs: 400, startTimeoutMs: 240_000 });
    stack = await startPoolGateway([`fastapi+${box.url}`], { model: "cosyvoice1", upstreamTimeoutMs: 1_500 });
  }, 300_000);
  afterAll(async () => {
    await stack?.close();
    await box?.stop();
  });

  it("CosyVoice 1: pretrained is inference_sft, instruct takes the built-in speaker", async () => {
    let before = ends(box.record).length;
    const sft = await stack.gw.api("/synthesize", jsonPost({ text: "Hello.", voice: "builtin:中文女" }));
    expect(sft.status).toBe(201);
    expect(sft.json.sampleRate).toBe(22_050);
    expect(await lastEnd(box.record, before)).toMatchObject({ endpoint: "/inference_sft", spk_id: "中文女", outcome: "complete" });
    before = ends(box.record).length;
    const ins = await stack.gw.api("/synthesize", jsonPost({ text: "Hello.", voice: "builtin:中文女", instruct: "A calm voice." }));
    expect(ins.status).toBe(201);
    expect(await lastEnd(box.record, before)).toMatchObject({ endpoint: "/inference_instruct", spk_id: "中文女", instruct_text: "A calm voice.", outcome: "complete" });
  });

  it("504 at the deadline, and the box records client_closed", async () => {
    const before = ends(box.record).length;
    const long = Array.from({ length: 10 }, (_, i) => `This is sentence number ${i + 1}.`).join(" ");
    const res = await stack.gw.api("/synthesize", jsonPost({ text: long, voice: "builtin:英文女" }));
    expect(res.status).toBe(504);
    expect((await lastEnd(box.record, before))["outcome"]).toBe("client_closed");
  });
});
