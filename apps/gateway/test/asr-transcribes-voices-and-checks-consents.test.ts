// The ASR box (ASR_URL) against the real ASR stand-in (pocketsphinx, OpenAI's transcription
// shape) and the real TTS stand-in:
// - a voice cloned from an espeak-ng prompt with no transcript, by OpenAI's voices.create, gets
//   the recognised words, and the zero-shot call the UI receives carries them (its record);
// - REST POST /voices without promptText too;
// - the ASR down or failing: the voice is still saved (200/201, never a 5xx), usable for
//   cross-lingual, and the answer and the log say why it has no transcript;
// - consent recordings are transcribed and must say CONSENT_PHRASE, word by word with room for
//   slips; a wrong one is refused quoting what was heard; no ASR to check with: 503, resendable;
// - its metrics and its breaker.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, readRecord, startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import OpenAI, { toFile } from "openai";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAsrClient } from "../src/backends/asr/client.ts";
import { SDK_READY, startFullStack, type FullStack } from "./helpers/full-stack.ts";

const PROMPT = "Please call me tomorrow morning.";
// What pocketsphinx makes of espeak-ng (stand-in README): this one comes back as "my name is
// anne and i say yes", a slip the word-by-word match allows.
const PHRASE = "My name is Ann and I say yes.";
const dir = mkdtempSync(join(tmpdir(), "asr-test-"));
/** Speech as the ASR stand-in hears it best: espeak-ng's female en-US voice at 150 words a minute. */
function speak(text: string, name: string): Uint8Array<ArrayBuffer> {
  const file = join(dir, name);
  execFileSync("espeak-ng", ["-v", "en-us+f3", "-s", "150", "-w", file, text]);
  return new Uint8Array(readFileSync(file));
}

/** The generate_audio call the UI got last. */
const lastCall = (record: string) => {
  const call = readRecord(record).filter((e) => e.event === "call" && e["fn"] === "generate_audio").at(-1)!;
  const inputs = call["inputs"] as Record<string, { value: unknown }>;
  return { mode: inputs["mode_checkbox_group"]?.value, promptText: String(inputs["prompt_text"]?.value ?? "") };
};

describe.skipIf(!SDK_READY)("voices and consents heard by the ASR box", () => {
  let asr: StandinHandle;
  let stack: FullStack;
  let client: OpenAI;
  let consentId: string;
  beforeAll(async () => {
    asr = await startStandin({ serve: "asr" });
    stack = await startFullStack({ variant: "official", model: "cosyvoice3" }, { asr: { url: `${asr.url}/v1`, model: "whisper-1", timeoutMs: 30_000 }, consentPhrases: { en: PHRASE } });
    client = new OpenAI({ apiKey: "unused", baseURL: `${stack.gw.url}/v1`, maxRetries: 0 });
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await asr?.stop();
  });

  it("a consent that says the phrase is kept, with what was heard", async () => {
    const consent = await client.audio.voiceConsents.create({ name: "Ann", language: "en-US", recording: await toFile(speak(PHRASE, "consent.wav"), "consent.wav") });
    consentId = consent.id;
    const heard = (consent as unknown as { transcript: string }).transcript;
    expect(heard).toBe("my name is anne and i say yes");
    // The ASR saw the recording: its record has the call with the language the consent declared.
    const end = readRecord(asr.record).filter((e) => e.event === "end").at(-1)!;
    expect(end).toMatchObject({ language: "en", outcome: "complete", transcript: heard });
  });

  it("a consent that says something else: 400 naming recording, quoting what was heard", async () => {
    const err = await client.audio.voiceConsents
      .create({ name: "Bo", language: "en", recording: await toFile(speak("The weather is lovely today, shall we go outside?", "other.wav"), "other.wav") })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const e = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.param).toBe("recording");
    expect(e.code).toBe("consent_phrase_not_heard");
    const heard = readRecord(asr.record).filter((x) => x.event === "end").at(-1)!["transcript"] as string;
    expect(e.message).toContain(`heard ${JSON.stringify(heard)}`);
    expect(e.message).toContain(JSON.stringify(PHRASE));
  });

  it("voices.create without a transcript: the sample is transcribed, and the zero-shot call carries the words", async () => {
    const voice = (await client.audio.voices.create({ name: "Ann", consent: consentId, audio_sample: await toFile(speak(PROMPT, "prompt.wav"), "prompt.wav") })) as unknown as { id: string; prompt_text: string | null };
    const heard = readRecord(asr.record).filter((x) => x.event === "end").at(-1)!["transcript"] as string;
    expect(voice.prompt_text).toBe(heard);
    // pocketsphinx hears espeak-ng's f3 voice word for word (the stand-in's README).
    expect(heard).toBe("please call me tomorrow morning");
    const res = await client.audio.speech.create({ model: "tts-1", voice: { id: voice.id }, input: "Hello there.", response_format: "wav" });
    await res.arrayBuffer();
    const call = lastCall(stack.standin.record);
    expect(call.mode).toBe("3s极速复刻");
    expect(call.promptText).toContain(heard);
    expect(stack.gw.logLines.some((l) => l.includes("voice transcribed by the ASR server") && l.includes(voice.id))).toBe(true);
  });

  it("REST POST /voices without promptText is transcribed too", async () => {
    const form = new FormData();
    form.set("name", "Rest Ann");
    form.set("audio", new Blob([speak(PROMPT, "rest.wav")], { type: "audio/wav" }), "rest.wav");
    const res = await stack.gw.api("/voices", { method: "POST", body: form });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ promptText: "please call me tomorrow morning", promptTextSource: "asr" });
    expect((await stack.gw.api("/capabilities")).json.voices).toMatchObject({ transcribes: true });
  });

  it("/metrics counts the transcriptions", async () => {
    const text = new TextDecoder().decode((await stack.gw.api("/metrics")).bytes);
    const ok = /cosyvoice_gateway_asr_transcriptions_total\{outcome="ok"\} (\d+)/.exec(text);
    expect(Number(ok?.[1])).toBeGreaterThanOrEqual(4);
    expect(text).toMatch(/cosyvoice_gateway_asr_up 1/);
  });
});

describe.skipIf(!SDK_READY)("the ASR down or failing: voices are kept for cross-lingual, never a 5xx", () => {
  let failing: StandinHandle;
  let stack: FullStack;
  let deadPort: number;
  beforeAll(async () => {
    failing = await startStandin({ serve: "asr", failRate: 1 });
    deadPort = await freePort();
    stack = await startFullStack({ variant: "official", model: "cosyvoice3" }, { asr: { url: `http://127.0.0.1:${deadPort}/v1`, model: "whisper-1", timeoutMs: 5_000 }, consentPhrases: { "*": PHRASE }, voiceConsent: "optional" });
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await failing?.stop();
  });

  it("unreachable: 200 with prompt_text null and a warning; logged; speech does cross-lingual", async () => {
    const form = new FormData();
    form.set("name", "Kept");
    form.set("audio_sample", new Blob([speak(PROMPT, "down.wav")], { type: "audio/wav" }), "down.wav");
    const res = await stack.gw.api("/v1/audio/voices", { method: "POST", body: form });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ object: "audio.voice", prompt_text: null });
    expect(res.json.warning).toMatch(/does not answer.*cross-lingual/);
    expect(stack.gw.logLines.some((l) => l.includes("voice saved without a transcript") && l.includes('"reason":"unreachable"'))).toBe(true);
    const speech = await fetch(`${stack.gw.url}/v1/audio/speech`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "tts-1", voice: { id: res.json.id }, input: "Still speaking." }) });
    expect(speech.status).toBe(200);
    await speech.arrayBuffer();
    expect(lastCall(stack.standin.record).mode).toBe("跨语种复刻");
  });

  it("a consent that cannot be checked: 503 asr_unavailable, safe to resend, nothing saved", async () => {
    const form = new FormData();
    form.set("name", "Unchecked");
    form.set("language", "en");
    form.set("recording", new Blob([speak(PHRASE, "c-down.wav")], { type: "audio/wav" }), "c.wav");
    const res = await stack.gw.api("/v1/audio/voice_consents", { method: "POST", body: form });
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe("asr_unavailable");
    expect(res.headers.get("x-should-retry")).toBe("true");
    expect(res.headers.get("retry-after")).toBe("10");
    expect((await stack.gw.api("/v1/audio/voice_consents")).json.data).toEqual([]);
  });

  it("a server answering 500: the client says failed, its breaker opens after repeated box faults", async () => {
    const asr = createAsrClient({ url: `${failing.url}/v1`, breakerFailures: 2, breakerOpenMs: 60_000, logger: pino({ level: "silent" }) });
    const wav = { data: speak(PROMPT, "f.wav"), mimeType: "audio/wav", ext: "wav" };
    for (let i = 0; i < 2; i++) await expect(asr.transcribe(wav)).rejects.toMatchObject({ reason: "failed", boxFault: true });
    expect(asr.status()).toMatchObject({ kind: "asr", up: false, breaker: "open" });
    await expect(asr.transcribe(wav)).rejects.toMatchObject({ reason: "breaker_open", resendable: true });
    // The failing server was not asked a third time.
    expect(readRecord(failing.record).filter((e) => e.event === "call")).toHaveLength(2);
    expect(await asr.health()).toBe(true);
  });
});
