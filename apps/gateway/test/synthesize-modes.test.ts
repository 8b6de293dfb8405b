import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { jsonPost, startTestGateway, voiceForm, type TestGateway } from "./helpers/harness.ts";
import { makeWav } from "./helpers/wav.ts";

const backend = new FakeBackend();
let gw: TestGateway;
let withText: string;
let withoutText: string;
beforeAll(async () => {
  gw = await startTestGateway({ backend });
  withText = (await gw.api("/voices", { method: "POST", body: voiceForm({ audio: makeWav(), name: "A", promptText: "Hello there." }) })).json.id;
  withoutText = (await gw.api("/voices", { method: "POST", body: voiceForm({ audio: makeWav(), name: "B" }) })).json.id;
});
afterAll(() => gw.close());

const last = () => backend.calls.at(-1)!.request as Record<string, unknown>;

describe("the voice decides the mode unless told", () => {
  it("builtin voice -> pretrained with the speaker name", async () => {
    const res = await gw.api("/synthesize", jsonPost({ text: "你好。", voice: "builtin:中文女", seed: 7, speed: 1.5 }));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ mode: "pretrained", voice: "builtin:中文女", mimeType: "audio/wav", sampleRate: 22_050, chunks: 2 });
    expect(res.headers.get("location")).toBe(res.json.url);
    expect(last()).toEqual({ mode: "pretrained", text: "你好。", voice: "中文女", seed: 7, speed: 1.5 });
  });

  it("saved voice with promptText -> clone, sending its audio with a real name and type", async () => {
    const res = await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: withText }));
    expect(res.json.mode).toBe("clone");
    const req = last();
    expect(req).toMatchObject({ mode: "clone", promptText: "Hello there.", promptAudio: { name: `${withText}.wav`, mimeType: "audio/wav" } });
    expect((req["promptAudio"] as { data: Uint8Array }).data).toHaveLength(makeWav().length);
  });

  it("saved voice without promptText -> crossLingual", async () => {
    const res = await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: withoutText }));
    expect(res.json.mode).toBe("crossLingual");
    expect(last()).not.toHaveProperty("promptText");
  });

  it("instruct given -> instruct, typed controls passed through", async () => {
    const res = await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: withText, instruct: { dialect: "sichuan", emotion: "happy" } }));
    expect(res.json.mode).toBe("instruct");
    expect(last()).toMatchObject({ mode: "instruct", instruct: { dialect: "sichuan", emotion: "happy" } });
    const builtin = await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:英文男", instruct: "Speak slowly." }));
    expect(builtin.json.mode).toBe("instruct");
    expect(last()).toMatchObject({ voice: "英文男", instruct: "Speak slowly." });
  });

  it("explicit crossLingual on a voice with promptText", async () => {
    expect((await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: withText, mode: "crossLingual" }))).json.mode).toBe("crossLingual");
  });
});

describe("voice/mode mismatches are 422, bad fields 400, unknown voices 404", () => {
  it.each([
    [{ mode: "clone" }, "builtin:中文女"],
    [{ mode: "pretrained" }, "saved"],
    [{ mode: "clone" }, "savedNoText"],
  ])("%j with %s", async (extra, which) => {
    const voice = which === "saved" ? withText : which === "savedNoText" ? withoutText : which;
    const res = await gw.api("/synthesize", jsonPost({ text: "Hi.", voice, ...extra }));
    expect(res.status).toBe(422);
    expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:voice-mode-mismatch");
  });

  it("instruct mode without an instruction", async () => {
    const res = await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: withText, mode: "instruct" }));
    expect(res.status).toBe(400);
    expect(res.json.errors).toEqual([expect.objectContaining({ pointer: "/instruct" })]);
  });

  it.each([
    [{ text: "", voice: "builtin:中文女" }, "/text"],
    [{ text: "x".repeat(2001), voice: "builtin:中文女" }, "/text"],
    [{ text: "Hi.", voice: "builtin:中文女", speed: 3 }, "/speed"],
    [{ text: "Hi.", voice: "builtin:中文女", seed: 1.5 }, "/seed"],
    [{ text: "Hi.", voice: "builtin:中文女", mode: "sing" }, "/mode"],
    [{ text: "Hi.", voice: "builtin:中文女", instruct: { dialect: "klingon" } }, "/instruct/dialect"],
    [{ text: "Hi." }, "/voice"],
    [{ text: "Hi.", voice: "builtin:中文女", extra: 1 }, "/extra"],
  ])("%j -> 400 at %s", async (body, pointer) => {
    const res = await gw.api("/synthesize", jsonPost(body));
    expect(res.status).toBe(400);
    expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:invalid-request");
    expect(res.json.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
  });

  it("an unknown voice is 404 and nothing is sent upstream", async () => {
    const before = backend.calls.length;
    for (const voice of ["builtin:nobody", "v_AAAAAAAAAAAAAAAAAAAAAA", "whatever"]) {
      const res = await gw.api("/synthesize", jsonPost({ text: "Hi.", voice }));
      expect(res.status).toBe(404);
      expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:voice-not-found");
    }
    expect(backend.calls.length).toBe(before);
  });
});

describe("streaming", () => {
  it('"stream": true sends AAC chunks and keeps the clip under X-Audio-Id', async () => {
    const res = await gw.api("/synthesize", jsonPost({ text: "One. Two. Three.", voice: withText, stream: true }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/aac");
    const id = res.headers.get("x-audio-id")!;
    expect(res.headers.get("content-location")).toBe(`/audio/${id}`);
    expect(res.bytes).toHaveLength(1000 + 1001 + 1002);
    expect([res.bytes[0], res.bytes[1000], res.bytes[2001]]).toEqual([0xf0, 0xf1, 0xf2]);
    const stored = await gw.api(`/audio/${id}`);
    expect(stored.headers.get("content-type")).toBe("audio/aac");
    expect(Buffer.from(stored.bytes).equals(Buffer.from(res.bytes))).toBe(true);
  });

  it("Accept: audio/aac streams too", async () => {
    const res = await gw.api("/synthesize", jsonPost({ text: "One.", voice: withText }, { accept: "audio/aac" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/aac");
  });
});
