/**
 * Each mistake a new user makes gets a message that says how to fix it: the field's full path
 * (pointer and words), what was expected, the allowed values of an enum (also inside
 * `instruct`), "did you mean" for a near-miss key or value, "required" for a missing field, a
 * hint for a file sent as text, and the language tags CosyVoice knows.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { synthWav } from "@cosyvoice3/testkit";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";

const backend = new FakeBackend();
let gw: TestGateway;
let voice: string;
beforeAll(async () => {
  gw = await startTestGateway({ backend });
  const form = new FormData();
  form.set("audio", new Blob([new Uint8Array(synthWav({ sampleRate: 24_000, seconds: 3 }))], { type: "audio/wav" }), "prompt.wav");
  form.set("name", "Ann");
  form.set("promptText", "Hello, this is my voice.");
  voice = (await gw.api("/voices", { method: "POST", body: form })).json.id;
});
afterAll(() => gw.close());

interface FieldError {
  pointer: string;
  detail: string;
  code: string;
}

async function refusal(body: unknown): Promise<{ detail: string; errors: FieldError[] }> {
  const before = backend.calls.length;
  const res = await gw.api("/synthesize", jsonPost(body));
  expect(res.status, JSON.stringify(res.json)).toBe(400);
  expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:invalid-request");
  expect(backend.calls.length, "nothing reaches the backend").toBe(before);
  // The detail alone says what is wrong, for a reader who never opens errors[].
  expect(res.json.detail.startsWith(res.json.errors[0].detail)).toBe(true);
  return res.json;
}

describe("POST /synthesize: each mistake, its message", () => {
  it('instruct {"emotion":"excited"}: the path inside instruct and the emotions there are', async () => {
    const { errors } = await refusal({ text: "Hi.", voice, instruct: { emotion: "excited" } });
    expect(errors).toEqual([
      { pointer: "/instruct/emotion", code: "invalid_value", detail: 'instruct.emotion must be one of "happy", "sad", "angry", not "excited"' },
    ]);
  });

  it('instruct {"dialect":"Sichuanese"}: the dialects, and "did you mean sichuan"', async () => {
    const [e] = (await refusal({ text: "Hi.", voice, instruct: { dialect: "Sichuanese" } })).errors;
    expect(e?.pointer).toBe("/instruct/dialect");
    expect(e?.detail).toMatch(/^instruct\.dialect must be one of "cantonese", "dongbei", .*"sichuan".*"yunnan", not "Sichuanese"; did you mean "sichuan"\?$/);
  });

  it("a dialect by its Chinese name suggests its key", async () => {
    const [e] = (await refusal({ text: "Hi.", voice, instruct: { dialect: "四川话" } })).errors;
    expect(e?.detail).toMatch(/did you mean "sichuan"\?$/);
  });

  it("instruct 123: what instruct may be, with an example of each", async () => {
    const [e] = (await refusal({ text: "Hi.", voice, instruct: 123 })).errors;
    expect(e).toMatchObject({ pointer: "/instruct", code: "invalid_type" });
    expect(e?.detail).toMatch(/^instruct must be a string or an object, not a number \(free text such as "Speak slowly and softly\." or controls such as \{"emotion": "happy"\}/);
  });

  it('a near-miss key inside instruct ("emotions"): did you mean "emotion"', async () => {
    const { errors } = await refusal({ text: "Hi.", voice, instruct: { emotions: "happy" } });
    expect(errors).toEqual([{ pointer: "/instruct/emotions", code: "unknown_field", detail: 'unknown field "emotions" in instruct; did you mean "emotion"?' }]);
  });

  it('unknown keys get their own pointer, "voiceId" suggests "voice"', async () => {
    const { errors } = await refusal({ text: "Hi.", voice, voiceId: voice });
    expect(errors).toEqual([{ pointer: "/voiceId", code: "unknown_field", detail: 'unknown field "voiceId"; did you mean "voice"?' }]);
  });

  it("an unknown key with no near miss lists the known fields", async () => {
    const [e] = (await refusal({ text: "Hi.", voice, colour: "blue" })).errors;
    expect(e).toMatchObject({ pointer: "/colour", code: "unknown_field" });
    expect(e?.detail).toBe('unknown field "colour"; known fields: text, voice, mode, instruct, speed, seed, stream');
  });

  it('a missing field says "required", not "expected string, received undefined"', async () => {
    const { errors } = await refusal({ voice });
    expect(errors).toEqual([{ pointer: "/text", code: "required", detail: "text is required" }]);
    const both = await refusal({});
    expect(both.errors.map((e) => e.detail)).toEqual(["text is required", "voice is required"]);
    expect(both.detail).toBe("text is required (and 1 more: see errors)");
  });

  it("a bad mode lists the modes and the near miss", async () => {
    const [e] = (await refusal({ text: "Hi.", voice, mode: "clon" })).errors;
    expect(e?.detail).toBe('mode must be one of "pretrained", "clone", "crossLingual", "instruct", not "clon"; did you mean "clone"?');
  });

  it("a number out of range says the bound and what was sent", async () => {
    const [e] = (await refusal({ text: "Hi.", voice, speed: 3 })).errors;
    expect(e).toEqual({ pointer: "/speed", code: "too_big", detail: "speed must be at most 2 (got 3)" });
  });

  it("a value of the wrong type says the type expected and the one sent", async () => {
    const [e] = (await refusal({ text: "Hi.", voice, seed: "42" })).errors;
    expect(e).toEqual({ pointer: "/seed", code: "invalid_type", detail: 'seed must be a number, not a string ("42")' });
  });

  it("an unknown language tag <|xx|> is refused, naming the five CosyVoice knows", async () => {
    const [e] = (await refusal({ text: "<|xx|>Hello.", voice, mode: "crossLingual" })).errors;
    expect(e).toMatchObject({ pointer: "/text", code: "unknown_language_tag" });
    expect(e?.detail).toBe(
      "text has the unknown language tag <|xx|>; CosyVoice knows <|zh|> (Chinese), <|en|> (English), <|ja|> (Japanese), <|yue|> (Cantonese), <|ko|> (Korean)",
    );
    const [cn] = (await refusal({ text: "<|cn|>你好。", voice })).errors;
    expect(cn?.detail).toMatch(/^text has the unknown language tag <\|cn\|> \(did you mean <\|zh\|>\?\)/);
  });

  it("the known language tags pass", async () => {
    for (const tag of ["zh", "en", "ja", "yue", "ko"]) {
      const res = await gw.api("/synthesize", jsonPost({ text: `<|${tag}|>Hello.`, voice, mode: "crossLingual" }));
      expect(res.status, tag).toBe(201);
    }
  });
});

describe("POST /voices: each mistake, its message", () => {
  const wav = () => new Blob([new Uint8Array(synthWav({ sampleRate: 24_000, seconds: 3 }))], { type: "audio/wav" });

  it("-F audio=prompt.wav (no @) says the file arrived as text and how to send it", async () => {
    const form = new FormData();
    form.set("audio", "prompt.wav");
    form.set("name", "Ann");
    const res = await gw.api("/voices", { method: "POST", body: form });
    expect(res.status).toBe(400);
    expect(res.json.errors).toEqual([
      {
        pointer: "/audio",
        code: "file_sent_as_text",
        detail: 'audio arrived as the text "prompt.wav", not as a file: send the file itself (curl: -F audio=@prompt.wav, with the @; a browser form: <input type="file" name="audio">)',
      },
    ]);
    expect(res.json.detail).toBe(res.json.errors[0].detail);
  });

  it('no file at all says "required" and how to attach one', async () => {
    const form = new FormData();
    form.set("name", "Ann");
    const res = await gw.api("/voices", { method: "POST", body: form });
    expect(res.status).toBe(400);
    expect(res.json.errors).toEqual([{ pointer: "/audio", code: "required", detail: "audio is required: the prompt audio file, as a multipart file field (curl: -F audio=@prompt.wav)" }]);
  });

  it('prompt_text suggests promptText', async () => {
    const form = new FormData();
    form.set("audio", wav(), "prompt.wav");
    form.set("name", "Ann");
    form.set("prompt_text", "Hello.");
    const res = await gw.api("/voices", { method: "POST", body: form });
    expect(res.status).toBe(400);
    expect(res.json.errors).toEqual([{ pointer: "/prompt_text", code: "unknown_field", detail: 'unknown field "prompt_text"; did you mean "promptText"?' }]);
  });

  it("a missing name says required", async () => {
    const form = new FormData();
    form.set("audio", wav(), "prompt.wav");
    const res = await gw.api("/voices", { method: "POST", body: form });
    expect(res.status).toBe(400);
    expect(res.json.errors).toEqual([{ pointer: "/name", code: "required", detail: "name is required" }]);
  });

  it('an empty promptText (a browser form sends every field) means "none": 201, a voice without a transcript', async () => {
    const form = new FormData();
    form.set("audio", wav(), "prompt.wav");
    form.set("name", "No transcript");
    form.set("promptText", "");
    const res = await gw.api("/voices", { method: "POST", body: form });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json.promptText).toBeUndefined();
    // Without a transcript its default mode is cross-lingual, not clone.
    const synth = await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: res.json.id }));
    expect(synth.status).toBe(201);
    expect(synth.json.mode).toBe("crossLingual");
  });
});

describe("an unknown voice says where voice ids come from", () => {
  it("the placeholder of the docs, or any id that is not a v_ id", async () => {
    const res = await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "v_REPLACE_WITH_YOUR_VOICE_ID" }));
    expect(res.status).toBe(404);
    expect(res.json.detail).toBe('No voice with id "v_REPLACE_WITH_YOUR_VOICE_ID": voice ids are the v_ ids POST /voices answers (GET /voices lists them), or builtin:<speaker>');
  });

  it("an unknown built-in speaker lists the ones there are", async () => {
    const res = await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:nobody" }));
    expect(res.status).toBe(404);
    expect(res.json.detail).toBe('No voice with id "builtin:nobody": the built-in speakers here are builtin:中文女, builtin:英文男');
  });

  it("a backend without built-in speakers (CosyVoice2/3) says so", async () => {
    const cv3 = new FakeBackend();
    cv3.info_ = { variant: "cv3-en", gradioVersion: "5.4.0", model: "cosyvoice3", sampleRate: 24_000, modes: ["clone", "crossLingual", "instruct"], speakers: [] };
    const other = await startTestGateway({ backend: cv3 });
    try {
      const res = await other.api("/synthesize", jsonPost({ text: "你好。", voice: "builtin:中文女" }));
      expect(res.status).toBe(404);
      expect(res.json.detail).toMatch(/: this backend has no built-in speakers \(only CosyVoice 1 models have them\); save a voice with POST \/voices/);
    } finally {
      await other.close();
    }
  });
});
