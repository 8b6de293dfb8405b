// The gateway in front of an OpenAI-compatible speech server shaped like vLLM-Omni serving
// Fun-CosyVoice3 (the stand-in's `--serve openai`), named `openai+http://.../v1`: a saved voice
// goes as ref_audio + ref_text on each request, the answer is PCM streamed and reaches /v1 and
// REST bit for bit; what the server cannot do (cross-lingual, instruct) is refused before
// anything is sent; a client that leaves closes the connection, and the server records it.
import { saveVoice } from "./helpers/voices.ts";
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonPost } from "./helpers/harness.ts";
import { startPoolGateway, type PoolGateway } from "./helpers/pool-stack.ts";
import { calls, ends, lastEnd, sha } from "./helpers/box-record.ts";

const TEXT = "The sky is clear today. Let us go for a walk.";

describe("a vLLM-Omni-shaped OpenAI speech box (openai+http://.../v1)", () => {
  let box: StandinHandle;
  let stack: PoolGateway;
  let voiceId: string;
  beforeAll(async () => {
    box = await startStandin({ serve: "openai", model: "cosyvoice3", chunkDelayMs: 150, startTimeoutMs: 240_000 });
    stack = await startPoolGateway([`openai+${box.url}/v1`], { model: "cosyvoice3" });
    voiceId = await saveVoice(stack.gw, { name: "Cara", promptText: "I like long walks.", f0: 200, sampleRate: 24_000 });
  }, 300_000);
  afterAll(async () => {
    await stack?.close();
    await box?.stop();
  });

  it("clone: ref_audio + ref_text per request; REST's WAV and /v1 pcm are the box's PCM bit for bit", async () => {
    let before = ends(box.record).length;
    const res = await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice: voiceId }));
    expect(res.status).toBe(201);
    let end = await lastEnd(box.record, before);
    expect(end).toMatchObject({ endpoint: "/v1/audio/speech", tts_text: TEXT, prompt_text: "You are a helpful assistant.<|endofprompt|>I like long walks.", outcome: "complete" });
    const wav = await stack.gw.api(res.json.url);
    expect(sha(wav.bytes.subarray(44))).toBe(end["pcm_sha256"]);
    before = ends(box.record).length;
    const v1 = await fetch(`${stack.gw.url}/v1/audio/speech`, jsonPost({ model: "tts-1", input: TEXT, voice: voiceId, response_format: "pcm" }));
    expect(v1.status).toBe(200);
    const bytes = new Uint8Array(await v1.arrayBuffer());
    end = await lastEnd(box.record, before);
    expect(sha(bytes)).toBe(end["pcm_sha256"]);
  });

  it("cross-lingual and instruct are refused before anything is sent", async () => {
    const before = calls(box.record).length;
    expect((await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice: voiceId, mode: "crossLingual" }))).status).toBe(422);
    expect((await stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice: voiceId, instruct: "Speak slowly." }))).status).toBe(422);
    expect(calls(box.record).length).toBe(before);
  });

  it("a client that goes away closes the connection: the box records client_closed", async () => {
    const before = ends(box.record).length;
    const ctl = new AbortController();
    const long = Array.from({ length: 12 }, (_, i) => `This is sentence number ${i + 1}.`).join(" ");
    const res = await fetch(`${stack.gw.url}/v1/audio/speech`, { ...jsonPost({ model: "tts-1", input: long, voice: voiceId, response_format: "pcm" }), signal: ctl.signal });
    await (res.body as ReadableStream<Uint8Array>).getReader().read();
    ctl.abort();
    const end = await lastEnd(box.record, before);
    expect(end["outcome"]).toBe("client_closed");
  });
});
