// The gateway in front of CosyVoice's official gRPC server (the stand-in's `--serve grpc`),
// named `grpc://host:port`: clone and cross-lingual with the prompt audio sent as raw 16 kHz
// int16 and CosyVoice3's prefix added; no instruct2, so instruct on CosyVoice3 is refused before
// anything is sent; CosyVoice 1's pretrained and instruct; the box's PCM bit for bit through
// /v1 and REST; a client that leaves cancels the call on the box.
import { saveVoice } from "./helpers/voices.ts";
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonPost } from "./helpers/harness.ts";
import { startPoolGateway, type PoolGateway } from "./helpers/pool-stack.ts";
import { calls, ends, lastEnd, sha } from "./helpers/box-record.ts";

const PREFIX = "You are a helpful assistant.<|endofprompt|>";
const TEXT = "The sky is clear today. Let us go for a walk.";

describe("a CosyVoice3 gRPC box (grpc://)", () => {
  let box: StandinHandle;
  let stack: PoolGateway;
  let voiceId: string;
  beforeAll(async () => {
    box = await startStandin({ serve: "grpc", model: "cosyvoice3", chunkDelayMs: 150, startTimeoutMs: 240_000 });
    stack = await startPoolGateway([`grpc://${box.address}`], { model: "cosyvoice3" });
    voiceId = await saveVoice(stack.gw, { name: "Cara", promptText: "I like long walks.", f0: 200, sampleRate: 24_000 });
  }, 300_000);
  afterAll(async () => {
    await stack?.close();
    await box?.stop();
  });

  it("clone: prompt audio as 16 kHz PCM, the prefix added; REST's WAV is the box's PCM bit for bit", async () => {
    const before = ends(box.record).length;
    const res = await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice: voiceId, mode: "clone" }));
    expect(res.status).toBe(201);
    const end = await lastEnd(box.record, before);
    expect(end).toMatchObject({ mode: "zero_shot", prompt_text: PREFIX + "I like long walks.", outcome: "complete" });
    const wav = await stack.gw.api(res.json.url);
    expect(sha(wav.bytes.subarray(44))).toBe(end["pcm_sha256"]);
  });

  it("cross-lingual, and /v1 pcm equal to what the box sent", async () => {
    const before = ends(box.record).length;
    const res = await fetch(`${stack.gw.url}/v1/audio/speech`, jsonPost({ model: "tts-1", input: TEXT, voice: voiceId, response_format: "pcm" }));
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const end = await lastEnd(box.record, before);
    expect(end).toMatchObject({ mode: "zero_shot", outcome: "complete" });
    expect(sha(bytes)).toBe(end["pcm_sha256"]);
    const b2 = ends(box.record).length;
    const cl = await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice: voiceId, mode: "crossLingual" }));
    expect(cl.status).toBe(201);
    expect(await lastEnd(box.record, b2)).toMatchObject({ mode: "cross_lingual", tts_text: PREFIX + TEXT, outcome: "complete" });
  });

  it("instruct (no instruct2 on the gRPC server) is refused before anything is sent", async () => {
    const before = calls(box.record).length;
    const res = await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice: voiceId, instruct: "Speak slowly." }));
    expect(res.status).toBe(422);
    expect(res.json.detail).toMatch(/instruct/);
    expect(calls(box.record).length).toBe(before);
  });

  it("a client that goes away cancels the call: the box records client_closed", async () => {
    const before = ends(box.record).length;
    const ctl = new AbortController();
    const long = Array.from({ length: 12 }, (_, i) => `This is sentence number ${i + 1}.`).join(" ");
    const res = await fetch(`${stack.gw.url}/v1/audio/speech`, { ...jsonPost({ model: "tts-1", input: long, voice: voiceId, response_format: "pcm" }), signal: ctl.signal });
    await (res.body as ReadableStream<Uint8Array>).getReader().read();
    ctl.abort();
    const end = await lastEnd(box.record, before);
    expect(end["outcome"]).toBe("client_closed");
    expect(end["chunks"] as number).toBeLessThan(12);
  });
});

describe("a CosyVoice 1 gRPC box", () => {
  let box: StandinHandle;
  let stack: PoolGateway;
  beforeAll(async () => {
    box = await startStandin({ serve: "grpc", model: "cosyvoice1", startTimeoutMs: 240_000 });
    stack = await startPoolGateway([`grpc://${box.address}`], { model: "cosyvoice1" });
  }, 300_000);
  afterAll(async () => {
    await stack?.close();
    await box?.stop();
  });

  it("pretrained is sft_request, instruct takes the built-in speaker", async () => {
    let before = ends(box.record).length;
    const sft = await stack.gw.api("/synthesize", jsonPost({ text: "Hello.", voice: "builtin:中文女" }));
    expect(sft.status).toBe(201);
    expect(sft.json.sampleRate).toBe(22_050);
    expect(await lastEnd(box.record, before)).toMatchObject({ mode: "sft", spk_id: "中文女", outcome: "complete" });
    before = ends(box.record).length;
    const ins = await stack.gw.api("/synthesize", jsonPost({ text: "Hello.", voice: "builtin:中文女", instruct: "A calm voice." }));
    expect(ins.status).toBe(201);
    expect(await lastEnd(box.record, before)).toMatchObject({ mode: "instruct", spk_id: "中文女", instruct_text: "A calm voice.", outcome: "complete" });
  });
});
