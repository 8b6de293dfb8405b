import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { ends } from "./http-helpers.ts";

/** espeak-ng speaking `text` as a WAV (the voice pocketsphinx's US model hears best: en-us+f3, 150 wpm). */
function espeak(text: string, voice = "en-us+f3"): Buffer {
  return execFileSync("espeak-ng", ["--stdout", "-v", voice, "-s", "150", text]);
}

async function transcribe(h: StandinHandle, fields: Record<string, string>, file?: { data: Buffer; name: string }): Promise<Response> {
  const fd = new FormData();
  if (file) fd.append("file", new Blob([new Uint8Array(file.data)], { type: "audio/wav" }), file.name);
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  return fetch(`${h.url}/v1/audio/transcriptions`, { method: "POST", body: fd });
}

const words = (s: string) => s.toLowerCase().replace(/[^a-z' ]/g, " ").split(/\s+/).filter(Boolean);

describe("--serve asr: an OpenAI-compatible transcription server running pocketsphinx (en-US)", () => {
  let h: StandinHandle;
  beforeAll(async () => {
    h = await startStandin({ serve: "asr" });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("transcribes espeak-ng sentences: most of their words come back", async () => {
    for (const [sentence, voice] of [
      ["Please call me tomorrow morning.", "en-us+f3"],
      ["I would like to order a pizza with cheese.", "en-us+f2"],
    ] as const) {
      const r = await transcribe(h, { model: "whisper-1" }, { data: espeak(sentence, voice), name: "speech.wav" });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { text: string };
      expect(Object.keys(body)).toEqual(["text"]);
      const heard = new Set(words(body.text));
      const said = words(sentence);
      const hits = said.filter((w) => heard.has(w)).length;
      expect(hits / said.length, `heard "${body.text}" for "${sentence}"`).toBeGreaterThanOrEqual(0.6);
    }
    const last = ends(h.record).at(-1)!;
    expect(last).toMatchObject({ serve: "asr", endpoint: "/v1/audio/transcriptions", model: "whisper-1", outcome: "complete" });
    expect(typeof last["transcript"]).toBe("string");
  });

  it("response_format text, verbose_json (with word times) and srt; any file ffmpeg reads", async () => {
    const wav = espeak("Please call me tomorrow morning.");
    const mp3 = execFileSync("ffmpeg", ["-v", "error", "-i", "-", "-f", "mp3", "-"], { input: wav });
    const verbose = await transcribe(
      h,
      { model: "pocketsphinx-en-us", response_format: "verbose_json", "timestamp_granularities[]": "word", language: "en" },
      { data: mp3, name: "speech.mp3" },
    );
    const v = (await verbose.json()) as { task: string; language: string; duration: number; text: string; segments: { start: number; end: number; text: string }[]; words: { word: string; start: number; end: number }[] };
    expect(v).toMatchObject({ task: "transcribe", language: "english" });
    expect(v.duration).toBeGreaterThan(1);
    expect(v.segments[0]).toMatchObject({ start: 0, text: v.text });
    expect(v.words.map((w) => w.word).join(" ")).toBe(v.text);
    for (const w of v.words) expect(w.end).toBeGreaterThan(w.start);
    const text = await transcribe(h, { model: "whisper-1", response_format: "text" }, { data: mp3, name: "a.mp3" });
    expect(text.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await text.text()).toBe(`${v.text}\n`);
    const srt = await transcribe(h, { model: "whisper-1", response_format: "srt" }, { data: wav, name: "a.wav" });
    expect(await srt.text()).toMatch(/^1\n00:00:00,000 --> 00:00:0\d,\d{3}\n.+\n\n$/);
  });

  it("mistakes get OpenAI's error shape, naming the parameter", async () => {
    const wav = espeak("Hello.");
    const cases: [Record<string, string>, { data: Buffer; name: string } | undefined, string, string][] = [
      [{ model: "whisper-1" }, undefined, "file", "missing_required_parameter"],
      [{}, { data: wav, name: "a.wav" }, "model", "missing_required_parameter"],
      [{ model: "whisper-1", response_format: "xml" }, { data: wav, name: "a.wav" }, "response_format", "invalid_value"],
      [{ model: "whisper-1", language: "de" }, { data: wav, name: "a.wav" }, "language", "invalid_value"],
      [{ model: "whisper-1" }, { data: Buffer.from("not audio"), name: "a.wav" }, "file", "invalid_value"],
    ];
    for (const [fields, file, param, code] of cases) {
      const r = await transcribe(h, fields, file);
      expect(r.status).toBe(400);
      const err = ((await r.json()) as { error: { type: string; param: string; code: string; message: string } }).error;
      expect(err).toMatchObject({ type: "invalid_request_error", param, code });
      expect(err.message.length).toBeGreaterThan(5);
    }
  });

  it("/v1/models and /health", async () => {
    const m = (await (await fetch(`${h.url}/v1/models`)).json()) as { object: string; data: { id: string }[] };
    expect(m).toMatchObject({ object: "list", data: [{ id: "pocketsphinx-en-us", object: "model" }] });
    expect((await fetch(`${h.url}/health`)).status).toBe(200);
  });
});

describe("--serve asr --fail-rate 1", () => {
  let h: StandinHandle;
  beforeAll(async () => {
    h = await startStandin({ serve: "asr", failRate: 1 });
  });
  afterAll(async () => {
    await h?.stop();
  });
  it("every transcription is a 500 server_error, recorded as failed", async () => {
    const r = await transcribe(h, { model: "whisper-1" }, { data: espeak("Hello."), name: "a.wav" });
    expect(r.status).toBe(500);
    expect(((await r.json()) as { error: { type: string } }).error.type).toBe("server_error");
    expect(ends(h.record).at(-1)).toMatchObject({ outcome: "failed", message: "injected failure (--fail-rate)" });
  });
});
