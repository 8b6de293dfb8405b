// openai-node (the `openai` npm package) on OpenAI's custom voices: voice_consents.create,
// voices.create under that consent, speech.create with voice {id} reaching the UI with the
// voice's prompt audio, voices.delete. Each key owns its consents and voices: another key gets
// NotFoundError on them, and BadRequestError naming `consent` when it tries to use one.
import { readRecord, synthWav } from "@cosyvoice3/testkit";
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SDK_READY, startFullStack, type FullStack } from "./helpers/full-stack.ts";

const KEY_A = "node-key-a-0123456789";
const KEY_B = "node-key-b-0123456789";

const wav = (seconds: number, f0: number) => toFile(synthWav({ sampleRate: 16_000, seconds, f0 }), "sample.wav", { type: "audio/wav" });

describe.skipIf(!SDK_READY)("openai-node on custom voices, owned per key", () => {
  let stack: FullStack;
  let a: OpenAI;
  let b: OpenAI;
  let consentId: string;
  let voiceId: string;
  beforeAll(async () => {
    stack = await startFullStack({ variant: "official", model: "cosyvoice3" }, { apiKeys: [KEY_A, KEY_B] });
    a = new OpenAI({ apiKey: KEY_A, baseURL: `${stack.gw.url}/v1`, maxRetries: 0 });
    b = new OpenAI({ apiKey: KEY_B, baseURL: `${stack.gw.url}/v1`, maxRetries: 0 });
  });
  afterAll(() => stack?.close());

  it("voice_consents.create, then voices.create under it", async () => {
    const consent = await a.audio.voiceConsents.create({ name: "Dee", language: "en-GB", recording: await wav(2, 140) });
    expect(consent).toMatchObject({ object: "audio.voice_consent", name: "Dee", language: "en-GB" });
    consentId = consent.id;
    const voice = await a.audio.voices.create({ name: "Dee", consent: consentId, audio_sample: await wav(3, 120) });
    expect(voice).toMatchObject({ object: "audio.voice", name: "Dee", type: "audio_sample" });
    voiceId = voice.id;
  });

  it("speech.create with voice {id} sends the voice's prompt audio to the UI", async () => {
    const res = await a.audio.speech.create({ model: "tts-1", voice: { id: voiceId }, input: "Node speaks.", response_format: "wav" });
    expect(res.headers.get("content-type")).toBe("audio/wav");
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    const call = readRecord(stack.standin.record).filter((e) => e.event === "call" && e["fn"] === "generate_audio").at(-1)!;
    expect(call["prompt_wav_upload"]).not.toBeNull();
    // No transcript and no ASR: the voice does cross-lingual.
    expect((call["inputs"] as Record<string, { value: unknown }>)["mode_checkbox_group"]?.value).toBe("跨语种复刻");
  });

  it("another key: NotFoundError on the consent, BadRequestError naming consent or voice when using them", async () => {
    await expect(b.audio.voiceConsents.retrieve(consentId)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const stolen = await b.audio.voices.create({ name: "X", consent: consentId, audio_sample: await wav(3, 120) }).catch((e: unknown) => e);
    expect(stolen).toBeInstanceOf(OpenAI.BadRequestError);
    expect((stolen as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("consent");
    const speech = await b.audio.speech.create({ model: "tts-1", voice: { id: voiceId }, input: "Mine now." }).catch((e: unknown) => e);
    expect(speech).toBeInstanceOf(OpenAI.BadRequestError);
    expect((speech as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("voice");
    await expect(b.audio.voices.delete(voiceId)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("the same voice on REST /voices: one record, one id", async () => {
    const rest = await stack.gw.api(`/voices/${voiceId}`, { headers: { authorization: `Bearer ${KEY_A}` } });
    expect(rest.json).toMatchObject({ id: voiceId, name: "Dee", kind: "cloned", consent: consentId });
  });

  it("type prompt, as JSON (OpenAI accepts it either way) or through the client: 400 naming type, saying why", async () => {
    const res = await stack.gw.api("/v1/audio/voices", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY_A}` },
      body: JSON.stringify({ name: "Designed", type: "prompt", prompt: "A warm, low voice with a slight rasp.", model: "auto" }),
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ param: "type", code: "unsupported_voice_type" });
    const viaClient = await a.audio.voices.create({ name: "Designed", type: "prompt", prompt: "A warm, low voice." }).catch((e: unknown) => e);
    expect(viaClient).toBeInstanceOf(OpenAI.BadRequestError);
    expect((viaClient as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/clones voices from recorded audio/);
  });

  it("voices.delete answers audio.voice.deleted; the consent stays", async () => {
    expect(await a.audio.voices.delete(voiceId)).toEqual({ id: voiceId, deleted: true, object: "audio.voice.deleted" });
    await expect(a.audio.voices.delete(voiceId)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect((await a.audio.voiceConsents.retrieve(consentId)).id).toBe(consentId);
  });
});
