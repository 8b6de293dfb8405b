// The `openai` driver in front of a server with preset voices (issue 16.3): here another instance
// of this gateway (`openai+http://.../v1`), whose `GET /v1/audio/voices` lists its voices by id.
// The front gateway offers them as built-in speakers (pretrained only, the capabilities say so),
// runs each by id on the back gateway (its own saved voice too), takes the rate the back's PCM
// answer says, and refuses a mode a preset server lacks before anything is sent. The shapes
// Kokoro-FastAPI and speaches give their voice lists are read the same way.
import { readRecord, startStandin, synthWav, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gradioBackend } from "../src/backends/gradio/driver.ts";
import { openaiBackend, voiceIds } from "../src/backends/openai/driver.ts";
import { jsonPost, startTestGateway, voiceForm, type TestGateway } from "./helpers/harness.ts";

const calls = (record: string) => readRecord(record).filter((e) => e.event === "call");

describe("voice lists as preset servers give them", () => {
  it("this gateway's {voices:[{id,name}]}, Kokoro-FastAPI's {voices:[...names]}, speaches' bare array; none from vLLM-Omni", () => {
    expect(voiceIds({ voices: [{ id: "builtin:中文女", name: "中文女" }, { id: "v_abc", name: "Ann" }] })).toEqual(["builtin:中文女", "v_abc"]);
    expect(voiceIds({ voices: ["af_bella", "am_adam", "af_bella"] })).toEqual(["af_bella", "am_adam"]);
    expect(voiceIds([{ voice_id: "en_US-amy" }, { name: "de_DE-thorsten" }])).toEqual(["en_US-amy", "de_DE-thorsten"]);
    expect(voiceIds({ voices: [], uploaded_voices: [] })).toEqual([]);
    expect(voiceIds(undefined)).toEqual([]);
  });
});

describe("a gateway in front of another gateway (openai+http://.../v1): voices by id, pretrained only", () => {
  let box: StandinHandle;
  let back: TestGateway;
  let front: TestGateway;
  let backVoice: string;
  beforeAll(async () => {
    box = await startStandin({ variant: "official", model: "cosyvoice1" });
    back = await startTestGateway({ backend: gradioBackend(box.url, { model: "cosyvoice1", timeoutMs: 60_000 }), config: { model: "cosyvoice1" } });
    const saved = await back.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav({ sampleRate: 16_000, seconds: 3, f0: 180 }), name: "Back", promptText: "I like long walks." }) });
    expect(saved.status).toBe(201);
    backVoice = saved.json.id;
    front = await startTestGateway({ backend: openaiBackend(`${back.url}/v1`, { model: "cosyvoice1", timeoutMs: 60_000 }), config: { model: "cosyvoice1" } });
  }, 300_000);
  afterAll(async () => {
    await front?.close();
    await back?.close();
    await box?.stop();
  });

  it("the back gateway's voices are the front's built-in speakers, by their ids; the capabilities say pretrained only", async () => {
    const listed = await front.api("/voices");
    expect(listed.status).toBe(200);
    const ids = (listed.json.voices as { id: string }[]).map((v) => v.id);
    expect(ids).toContain("builtin:builtin:中文女");
    expect(ids).toContain(`builtin:${backVoice}`);
    const info = await front.pool.info();
    expect(info).toMatchObject({ kind: "openai", modes: ["pretrained"], codec: "pcm_s16le" });
  });

  it("a built-in speaker of the back runs there by id, and the clip has the rate the back's PCM answer said", async () => {
    const before = calls(box.record).length;
    const res = await front.api("/synthesize", jsonPost({ text: "Hello from the front.", voice: "builtin:builtin:中文女" }));
    expect(res.status).toBe(201);
    // CosyVoice 1 makes 22,050 Hz audio: the back said so in `audio/pcm;rate=22050`.
    expect(res.json).toMatchObject({ mimeType: "audio/wav", sampleRate: 22_050, mode: "pretrained" });
    const after = calls(box.record);
    expect(after.length).toBe(before + 1);
    expect(JSON.stringify(after.at(-1))).toContain("中文女");
    const wav = await front.api(res.json.url);
    expect(Buffer.from(wav.bytes).readUInt32LE(24)).toBe(22_050);
  });

  it("the back's own saved voice is used by its id (a clone on the back), streamed through the front's /v1", async () => {
    const before = calls(box.record).length;
    const res = await front.api("/v1/audio/speech", jsonPost({ model: "tts-1", voice: `builtin:${backVoice}`, input: "A voice saved on the back.", response_format: "pcm" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/pcm;rate=22050;channels=1;encoding=s16le");
    expect(res.bytes.byteLength).toBeGreaterThan(22_050);
    const call = calls(box.record).at(-1);
    expect(calls(box.record).length).toBe(before + 1);
    // The back cloned its saved voice: its prompt audio went to the UI.
    expect(call?.["prompt_wav_upload"]).toBeTruthy();
  });

  it("a mode a preset server lacks is refused before anything is sent", async () => {
    const mine = await front.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav({ sampleRate: 16_000, seconds: 3, f0: 220 }), name: "Front", promptText: "I like long walks." }) });
    expect(mine.status).toBe(201);
    const before = calls(box.record).length;
    const res = await front.api("/synthesize", jsonPost({ text: "Clone me.", voice: mine.json.id }));
    expect(res.status).toBe(422);
    expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:unsupported-mode");
    expect(calls(box.record).length).toBe(before);
  });
});
