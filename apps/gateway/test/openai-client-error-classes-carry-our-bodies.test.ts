// Each error class the official `openai` client raises (BadRequestError, AuthenticationError,
// NotFoundError, RateLimitError) comes from our OpenAI-shaped body: `param` names the field,
// the message says what the caller can do (the voices it may use, why instructions cannot be
// followed), and nothing is silently dropped or clamped.
import { startStandin, synthWav, type StandinHandle } from "@cosyvoice3/testkit";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectingBackend } from "../src/backends/gradio/driver.ts";
import type { SynthesisBackend } from "../src/backends/port.ts";
import type { GatewayConfig } from "../src/platform/config.ts";
import { SDK_READY, SDK_SKIP_REASON } from "./helpers/full-stack.ts";
import { jsonPost, startTestGateway, voiceForm, type TestGateway } from "./helpers/harness.ts";

const KEY = "sk-test-0123456789abcdef";

async function failure(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err;
    throw err;
  }
  throw new Error("expected the call to fail");
}

describe.skipIf(!SDK_READY)(`openai client: error classes${SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`}`, () => {
  let standin: StandinHandle;
  let backend: SynthesisBackend;
  const gateways: TestGateway[] = [];
  let open: TestGateway;
  let client: OpenAI;
  let savedVoice: string;
  const gateway = async (config: Partial<GatewayConfig>) => {
    const gw = await startTestGateway({ backend, config });
    gateways.push(gw);
    return gw;
  };
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice1" });
    backend = connectingBackend(standin.url, { client: { model: "cosyvoice1", maxRetries: 0 } });
    open = await gateway({ model: "cosyvoice1", voiceAliases: { alloy: "中文女", echo: "builtin:nobody" } });
    client = new OpenAI({ apiKey: "any", baseURL: `${open.url}/v1`, maxRetries: 0 });
    savedVoice = (
      await open.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav({ sampleRate: 16_000, seconds: 3 }), name: "Bo", promptText: "你好。" }) })
    ).json.id;
  });
  afterAll(async () => {
    for (const gw of gateways) await gw.close();
    await backend?.close();
    await standin?.stop();
  });

  const speak = (body: Record<string, unknown>) =>
    client.audio.speech.create({ model: "tts-1", voice: "alloy", input: "你好。", ...body } as OpenAI.Audio.SpeechCreateParams);

  it("an unknown voice: BadRequestError, param voice, naming the voices the caller can use", async () => {
    const err = await failure(speak({ voice: "shimmer" }));
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error).toMatchObject({ type: "invalid_request_error", param: "voice", code: "voice_not_found" });
    expect(err.message).toContain('Unknown voice "shimmer"');
    expect(err.message).toContain("builtin:中文女");
    expect(err.message).toContain(`${savedVoice} (Bo)`);
    expect(err.message).toContain("alloy");
    // An alias whose voice does not exist is not offered.
    expect(err.message).not.toContain("echo");
  });

  it("a voice as { id } of someone unknown: BadRequestError, param voice", async () => {
    const err = await failure(speak({ voice: { id: "v_AAAAAAAAAAAAAAAAAAAAAA" } }));
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.param).toBe("voice");
  });

  it.each([
    [{ speed: 3 }, "speed", "between 0.5 and 2.0"],
    [{ speed: 0.25 }, "speed", "between 0.5 and 2.0"],
    [{ speed: "fast" }, "speed", "speed must be a number"],
    [{ response_format: "ogg" }, "response_format", "mp3, opus, aac, flac, wav, pcm"],
    [{ stream_format: "websocket" }, "stream_format", "audio or sse"],
    [{ input: "x".repeat(4097) }, "input", "at most 4096"],
    [{ input: "   " }, "input", "must not be empty"],
    [{ input: "?!… —" }, "input", "speakable"],
    [{ input: undefined }, "input", "input is required"],
    [{ voice: undefined }, "voice", "voice is required"],
    [{ instructions: "Speak happily. ".repeat(40) }, "instructions", "500"],
  ])("%j: BadRequestError with param %s", async (body, param, text) => {
    const err = await failure(speak(body));
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.param).toBe(param);
    expect(err.message).toContain(text);
  });

  it("instructions with a saved voice on CosyVoice 1: refused with why, never dropped", async () => {
    const err = await failure(speak({ voice: savedVoice, instructions: "Speak happily." }));
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.param).toBe("instructions");
    expect(err.message).toContain("built-in speaker");
  });

  it("unknown fields are ignored and null means unset (LibreChat's backend, Home Assistant's extras)", async () => {
    const res = await fetch(`${open.url}/v1/audio/speech`, jsonPost({ input: "你好。", voice: "alloy", model: "tts-1", backend: "openai", speed: null, instructions: null, response_format: null, extra: { a: 1 } }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    await res.arrayBuffer();
  });

  it("a body that is not JSON is a BadRequestError in OpenAI's shape", async () => {
    const res = await open.api("/v1/audio/speech", { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ type: "invalid_request_error", param: null, code: "malformed_json" });
  });

  it("a body over the limit is 413 in OpenAI's shape", async () => {
    const res = await open.api("/v1/audio/speech", jsonPost({ input: "a", voice: "alloy", pad: "x".repeat(70_000) }));
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe("payload_too_large");
  });

  it("an unknown model id or path: NotFoundError", async () => {
    const err = await failure(client.models.retrieve("whisper-1"));
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.error).toMatchObject({ type: "not_found_error", code: "not_found" });
    const res = await open.api("/v1/chat/completions", jsonPost({}));
    expect(res.status).toBe(404);
  });

  it("a missing or wrong API key: AuthenticationError; LibreChat's `Authorization: undefined` too", async () => {
    const keyed = await gateway({ model: "cosyvoice1", apiKeys: [KEY] });
    const wrong = new OpenAI({ apiKey: "sk-wrong-0123456789abcdef", baseURL: `${keyed.url}/v1`, maxRetries: 0 });
    const err = await failure(wrong.audio.speech.create({ model: "tts-1", voice: "中文女", input: "你好。" }));
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.error).toMatchObject({ type: "authentication_error", code: "unauthorized", param: null });
    const res = await keyed.api("/v1/audio/voices", { headers: { authorization: "undefined" } });
    expect(res.status).toBe(401);
    const right = new OpenAI({ apiKey: KEY, baseURL: `${keyed.url}/v1`, maxRetries: 0 });
    expect((await right.audio.speech.create({ model: "tts-1", voice: "中文女", input: "你好。" })).status).toBe(200);
  });

  it("one caller never sees nor speaks with another caller's voices", async () => {
    const other = "sk-other-0123456789abcdef";
    const keyed = await gateway({ model: "cosyvoice1", apiKeys: [KEY, other] });
    const form = new FormData();
    form.set("name", "Mine");
    form.set("consent", "cons_1");
    form.set("audio_sample", new Blob([synthWav({ sampleRate: 16_000, seconds: 3 }).slice()], { type: "audio/wav" }), "a.wav");
    const made = await keyed.api("/v1/audio/voices", { method: "POST", body: form, headers: { authorization: `Bearer ${KEY}` } });
    expect(made.status).toBe(200);
    const theirs = await keyed.api("/v1/audio/voices", { headers: { authorization: `Bearer ${other}` } });
    expect(theirs.json.voices.map((v: { id: string }) => v.id)).not.toContain(made.json.id);
    const c = new OpenAI({ apiKey: other, baseURL: `${keyed.url}/v1`, maxRetries: 0 });
    for (const voice of [made.json.id, "Mine", { id: made.json.id }]) {
      const err = await failure(c.audio.speech.create({ model: "tts-1", voice, input: "你好。" }));
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect(err.code).toBe("voice_not_found");
      expect(err.message.split("Voices you can use:")[1]).not.toContain(made.json.id);
    }
    const mine = new OpenAI({ apiKey: KEY, baseURL: `${keyed.url}/v1`, maxRetries: 0 });
    expect((await mine.audio.speech.create({ model: "tts-1", voice: "Mine", input: "你好。" })).status).toBe(200);
  });

  it("quota used up: RateLimitError with Retry-After, safe to retry", async () => {
    const limited = await gateway({ model: "cosyvoice1", rateLimit: { windowMs: 60_000, synthesize: 1, upload: 10, read: 100 } });
    const c = new OpenAI({ apiKey: "any", baseURL: `${limited.url}/v1`, maxRetries: 0 });
    await (await c.audio.speech.create({ model: "tts-1", voice: "中文女", input: "你好。" })).arrayBuffer();
    const err = await failure(c.audio.speech.create({ model: "tts-1", voice: "中文女", input: "你好。" }));
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.error).toMatchObject({ type: "rate_limit_error", code: "rate_limited" });
    expect(Number(err.headers?.get("retry-after"))).toBeGreaterThan(0);
    expect(err.headers?.get("x-should-retry")).toBe("true");
  });
});
