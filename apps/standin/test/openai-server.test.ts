import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseWav, startStandin, synthWav, waitForRecord, type StandinHandle } from "@cosyvoice3/testkit";
import { ends, eventsOf, send, sha256, sleep } from "./http-helpers.ts";

const PREFIX = "You are a helpful assistant.<|endofprompt|>";
const MODEL = "FunAudioLLM/Fun-CosyVoice3-0.5B-2512";
const PROMPT_WAV = synthWav({ sampleRate: 16_000, seconds: 2, f0: 180 });
const REF_AUDIO = `data:audio/wav;base64,${PROMPT_WAV.toString("base64")}`;

function speech(h: StandinHandle, body: Record<string, unknown>, opts: { onData?: (p: Buffer, n: number) => boolean | void } = {}) {
  return send(`${h.url}/v1/audio/speech`, { body: JSON.stringify(body), headers: { "content-type": "application/json" }, ...opts });
}

interface ApiError {
  error: { message: string; type: string; param: string | null; code: number };
}

/** The SSE events of a speech stream, in order. */
function sseEvents(body: Buffer): { event: string; data: Record<string, unknown> }[] {
  return body
    .toString()
    .split("\n\n")
    .filter((b) => b.trim() !== "")
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "";
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "{}") as Record<string, unknown>;
      return { event, data };
    });
}

describe("--serve openai: vLLM-Omni's speech API for Fun-CosyVoice3", () => {
  let h: StandinHandle;
  let media: Server;
  let mediaUrl = "";
  beforeAll(async () => {
    h = await startStandin({ serve: "openai" });
    // a ref_audio URL, as a client would point vLLM-Omni at one
    media = createServer((req, res) => {
      if (req.url === "/voice.wav") res.writeHead(200, { "content-type": "audio/wav" }).end(PROMPT_WAV);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => media.listen(0, "127.0.0.1", r));
    const addr = media.address();
    mediaUrl = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  });
  afterAll(async () => {
    await h?.stop();
    await new Promise((r) => media?.close(r));
  });

  it("/health, /v1/models and /v1/audio/voices answer as vLLM-Omni does", async () => {
    const health = await fetch(`${h.url}/health`);
    expect([health.status, await health.text()]).toEqual([200, ""]);
    const models = (await (await fetch(`${h.url}/v1/models`)).json()) as { object: string; data: { id: string; object: string; owned_by: string; root: string }[] };
    expect(models.object).toBe("list");
    expect(models.data).toHaveLength(1);
    expect(models.data[0]).toMatchObject({ id: MODEL, object: "model", owned_by: "vllm", root: MODEL });
    expect(await (await fetch(`${h.url}/v1/audio/voices`)).json()).toEqual({ voices: [], uploaded_voices: [] });
  });

  it("default: the whole clip as a 24 kHz WAV; ref_text gets the CosyVoice3 prefix; the PCM matches the record", async () => {
    const r = await speech(h, { model: MODEL, input: "Hello there. See you soon.", ref_audio: REF_AUDIO, ref_text: "A short prompt." });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("audio/wav");
    const wav = parseWav(r.body);
    expect(wav).toMatchObject({ sampleRate: 24_000, channels: 1, bitsPerSample: 16 });
    const pcm = r.body.subarray(44);
    const end = ends(h.record).at(-1)!;
    expect(end).toMatchObject({ endpoint: "/v1/audio/speech", mode: "zero_shot", outcome: "complete", chunks: 2, prompt_text: `${PREFIX}A short prompt.` });
    expect(end["pcm_sha256"]).toBe(sha256(pcm));
    expect(end["applied"]).toMatchObject({ response_format: "wav", stream: "none", ref_text_prefixed: true, ref_audio: { source: "data", sample_rate: 16_000, duration_ms: 2000 } });
  });

  it("stream_format 'audio' + pcm: raw PCM pieces as they are made (audio/pcm), bit-exact", async () => {
    const r = await speech(h, { input: "One. Two. Three.", ref_audio: REF_AUDIO, ref_text: `${PREFIX}Prompt.`, response_format: "pcm", stream_format: "audio" });
    expect([r.status, r.complete, r.headers["content-type"]]).toEqual([200, true, "audio/pcm"]);
    const end = ends(h.record).at(-1)!;
    expect(end).toMatchObject({ chunks: 3, outcome: "complete", pcm_bytes: r.body.length, prompt_text: `${PREFIX}Prompt.` });
    expect(end["pcm_sha256"]).toBe(sha256(r.body));
  });

  it("stream_format 'audio' + wav: a streaming header (sizes 0xFFFFFFFF), then PCM", async () => {
    const r = await speech(h, { input: "One. Two.", ref_audio: REF_AUDIO, ref_text: "Prompt.", response_format: "wav", stream_format: "audio" });
    expect(r.status).toBe(200);
    expect(r.body.readUInt32LE(4)).toBe(0xffffffff);
    expect(r.body.readUInt32LE(40)).toBe(0xffffffff);
    expect(r.body.readUInt32LE(24)).toBe(24_000);
    expect(ends(h.record).at(-1)!["pcm_sha256"]).toBe(sha256(r.body.subarray(44)));
  });

  it("stream: true (no stream_format) is SSE: speech.audio.delta ... speech.audio.done with usage", async () => {
    const r = await speech(h, { input: "One. Two.", ref_audio: REF_AUDIO, ref_text: "Prompt.", response_format: "pcm", stream: true });
    expect(r.headers["content-type"]).toMatch(/^text\/event-stream/);
    const events = sseEvents(r.body);
    expect(events.map((e) => e.event)).toEqual(["speech.audio.delta", "speech.audio.delta", "speech.audio.done"]);
    expect(events[0]!.data).toMatchObject({ type: "speech.audio.delta", response_format: "pcm" });
    expect(events[2]!.data["usage"]).toMatchObject({ input_tokens: 2 });
    const pcm = Buffer.concat(events.slice(0, 2).map((e) => Buffer.from(String(e.data["audio"]), "base64")));
    expect(ends(h.record).at(-1)).toMatchObject({ outcome: "complete", pcm_sha256: sha256(pcm), applied: { stream: "sse" } });
  });

  it("flac decodes to exactly the PCM the record describes; mp3 is audio/mpeg", async () => {
    const flac = await speech(h, { input: "Lossless please.", ref_audio: REF_AUDIO, ref_text: "Prompt.", response_format: "flac" });
    expect(flac.headers["content-type"]).toBe("audio/flac");
    const pcm = execFileSync("ffmpeg", ["-v", "error", "-i", "-", "-f", "s16le", "-"], { input: flac.body });
    expect(ends(h.record).at(-1)!["pcm_sha256"]).toBe(sha256(pcm));
    const mp3 = await speech(h, { input: "Lossy.", ref_audio: REF_AUDIO, ref_text: "Prompt.", response_format: "mp3" });
    expect([mp3.status, mp3.headers["content-type"]]).toEqual([200, "audio/mpeg"]);
  });

  it("ref_audio may be an http URL", async () => {
    const r = await speech(h, { input: "From a URL.", ref_audio: `${mediaUrl}/voice.wav`, ref_text: "Prompt.", response_format: "pcm" });
    expect(r.status).toBe(200);
    expect(ends(h.record).at(-1)).toMatchObject({ outcome: "complete", applied: { ref_audio: { source: "http", bytes: PROMPT_WAV.length } } });
  });

  it("errors come in vLLM's shape", async () => {
    const cases: [Record<string, unknown>, number, string, string, string | null][] = [
      [{ input: "Hi", ref_text: "x" }, 400, "BadRequestError", "CosyVoice3 requires 'ref_audio' (reference audio for voice cloning)", null],
      [{ input: "Hi", ref_audio: REF_AUDIO }, 400, "BadRequestError", "CosyVoice3 requires 'ref_text' (transcript of the reference audio)", null],
      [{ input: "  ", ref_audio: REF_AUDIO, ref_text: "x" }, 400, "BadRequestError", "Input text cannot be empty", null],
      [{ input: "Hi", ref_audio: "voice.wav", ref_text: "x" }, 400, "BadRequestError", "ref_audio must be a URL (http/https), base64 data URL (data:...), or file URI (file://...)", null],
      [{ input: "Hi", model: "tts-1", ref_audio: REF_AUDIO, ref_text: "x" }, 404, "NotFoundError", "The model `tts-1` does not exist.", "model"],
    ];
    for (const [body, status, type, message, param] of cases) {
      const r = await speech(h, body);
      expect(r.status).toBe(status);
      expect((JSON.parse(r.body.toString()) as ApiError).error).toEqual({ message, type, param, code: status });
    }
    // request validation (pydantic): 400 "Bad Request", the message names the rule
    const v = await speech(h, { input: "Hi", ref_audio: REF_AUDIO, ref_text: "x", stream: true, response_format: "pcm", speed: 2 });
    const err = (JSON.parse(v.body.toString()) as ApiError).error;
    expect([v.status, err.type, err.code]).toEqual([400, "Bad Request", 400]);
    expect(err.message).toContain("Speed adjustment is not supported when streaming");
    const bad = await speech(h, { input: "Hi", ref_audio: "data:audio/wav;base64,AAAA", ref_text: "x" });
    expect(bad.status).toBe(400);
    expect((JSON.parse(bad.body.toString()) as ApiError).error.message).toMatch(/^Failed to load ref_audio/);
  });
});

describe("--serve openai: cancel and fault knobs", () => {
  let h: StandinHandle | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });
  const BODY = { input: "One. Two. Three. Four.", ref_audio: REF_AUDIO, ref_text: "Prompt." };

  it("closing a raw PCM stream stops the model: client_closed, nothing after it", async () => {
    h = await startStandin({ serve: "openai", chunkDelayMs: 1200 });
    const r = await speech(h, { ...BODY, response_format: "pcm", stream_format: "audio" }, { onData: () => true });
    expect(r.complete).toBe(false);
    const rec = await waitForRecord(h.record, (es) => es.some((e) => e.event === "end"));
    const end = rec.find((e) => e.event === "end")!;
    expect(end).toMatchObject({ outcome: "client_closed", chunks: 1, pcm_sha256: sha256(r.body) });
    await sleep(2600);
    expect(eventsOf(h.record, end["job"])).toEqual(["call", "chunk", "end"]);
  });

  it("hanging up on a non-streamed request cancels it too", async () => {
    h = await startStandin({ serve: "openai", firstChunkDelayMs: 4000 });
    const controller = new AbortController();
    const pending = fetch(`${h.url}/v1/audio/speech`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(BODY),
      signal: controller.signal,
    }).catch((e: unknown) => e);
    await waitForRecord(h.record, (es) => es.some((e) => e.event === "call"));
    await sleep(300);
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    const rec = await waitForRecord(h.record, (es) => es.some((e) => e.event === "end"), 3000);
    expect(rec.find((e) => e.event === "end")).toMatchObject({ outcome: "client_closed", chunks: 0 });
  });

  it("--fail-rate 1: 500 InternalServerError without streaming, speech.audio.error over SSE", async () => {
    h = await startStandin({ serve: "openai", failRate: 1 });
    const whole = await speech(h, BODY);
    expect(whole.status).toBe(500);
    expect((JSON.parse(whole.body.toString()) as ApiError).error).toEqual({
      message: "injected failure (--fail-rate)",
      type: "InternalServerError",
      param: null,
      code: 500,
    });
    const sse = await speech(h, { ...BODY, response_format: "pcm", stream: true });
    const events = sseEvents(sse.body);
    expect(events.at(-1)).toMatchObject({ event: "speech.audio.error", data: { type: "speech.audio.error", error: { message: "injected failure (--fail-rate)", code: 500 } } });
    expect(ends(h.record).map((e) => e["outcome"])).toEqual(["failed", "failed"]);
  });
});
