import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { startTestGateway, voiceForm, type TestGateway } from "./helpers/harness.ts";
import { makeWav } from "./helpers/wav.ts";

const backend = new FakeBackend();
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ backend, config: { maxUploadBytes: 2 * 1024 * 1024 } });
});
afterAll(() => gw.close());

const post = (form: FormData) => gw.api("/voices", { method: "POST", body: form });

describe("POST /voices saves a cloned voice", () => {
  it("stores the upload and lists it with the built-in speakers", async () => {
    const res = await post(voiceForm({ audio: makeWav({ sampleRate: 24_000, seconds: 3 }), name: "Ann", promptText: "Hello there." }));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ name: "Ann", kind: "cloned", promptText: "Hello there.", audio: { mimeType: "audio/wav", sampleRate: 24_000, durationMs: 3000 } });
    expect(res.json.id).toMatch(/^v_[A-Za-z0-9_-]{22}$/);
    expect(res.headers.get("location")).toBe(`/voices/${res.json.id}`);

    const list = await gw.api("/voices");
    expect(list.status).toBe(200);
    const ids = list.json.voices.map((v: { id: string }) => v.id);
    expect(ids).toEqual(["builtin:中文女", "builtin:英文男", res.json.id]);

    const one = await gw.api(`/voices/${res.json.id}`);
    expect(one.json).toEqual(res.json);
    expect((await gw.api(`/voices/${encodeURIComponent("builtin:中文女")}`)).json).toEqual({ id: "builtin:中文女", name: "中文女", kind: "builtin" });
  });

  it("names the upload by a generated id, never by the client's file name", async () => {
    const res = await post(voiceForm({ audio: makeWav({ sampleRate: 16_000, seconds: 1 }), name: "Bob", filename: "../../etc/passwd.wav" }));
    expect(res.status).toBe(201);
    const stored = await gw.voices.get(res.json.id);
    expect(stored?.audio.ext).toBe("wav");
    expect(await gw.voices.readAudio(res.json.id)).toHaveLength(makeWav({ sampleRate: 16_000, seconds: 1 }).length);
  });

  it("refuses bytes that are not audio with 415, whatever their declared type", async () => {
    const res = await post(voiceForm({ audio: new TextEncoder().encode("RIFF? no, just text ".repeat(50)), name: "x", type: "audio/wav" }));
    expect(res.status).toBe(415);
    expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:not-audio");
  });

  it("refuses 8 kHz audio with 422 pointing at the file", async () => {
    const res = await post(voiceForm({ audio: makeWav({ sampleRate: 8_000, seconds: 2 }), name: "x" }));
    expect(res.status).toBe(422);
    expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:invalid-audio");
    expect(res.json.errors).toEqual([expect.objectContaining({ pointer: "/audio", code: "sample_rate" })]);
  });

  it("refuses audio over 30 s with 422", async () => {
    const res = await post(voiceForm({ audio: makeWav({ sampleRate: 16_000, seconds: 40 }), name: "x" }));
    expect(res.status).toBe(422);
    expect(res.json.errors).toEqual([expect.objectContaining({ code: "duration" })]);
  });

  it("refuses a file over the size cap with 413", async () => {
    const res = await post(voiceForm({ audio: makeWav({ sampleRate: 48_000, seconds: 25 }), name: "x" }));
    expect(res.status).toBe(413);
    expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:payload-too-large");
  });

  it("refuses a body that is not multipart with 415", async () => {
    const res = await gw.api("/voices", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(415);
  });

  it("requires a name and the file (400 with pointers)", async () => {
    const noName = await post(voiceForm({ audio: makeWav() }));
    expect(noName.status).toBe(400);
    expect(noName.json.errors).toEqual([expect.objectContaining({ pointer: "/name" })]);
    const noFile = await post(voiceForm({ name: "x" }));
    expect(noFile.status).toBe(400);
    expect(noFile.json.errors).toEqual([expect.objectContaining({ pointer: "/audio" })]);
  });

  it("refuses a second file with 400", async () => {
    const form = voiceForm({ audio: makeWav(), name: "x" });
    form.append("audio", new Blob([makeWav().slice()], { type: "audio/wav" }), "b.wav");
    expect((await post(form)).status).toBe(400);
  });
});

describe("DELETE /voices/:id", () => {
  it("deletes a saved voice, then it is gone", async () => {
    const created = await post(voiceForm({ audio: makeWav(), name: "Temp" }));
    const del = await gw.api(`/voices/${created.json.id}`, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect((await gw.api(`/voices/${created.json.id}`)).status).toBe(404);
    expect((await gw.api(`/voices/${created.json.id}`, { method: "DELETE" })).status).toBe(404);
  });

  it("refuses to delete a built-in voice with 409", async () => {
    const res = await gw.api(`/voices/${encodeURIComponent("builtin:中文女")}`, { method: "DELETE" });
    expect(res.status).toBe(409);
    expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:voice-read-only");
  });
});

describe("voice id path traversal", () => {
  it.each(["..%2F..%2Fetc%2Fpasswd", "v_..%2F..%2Fvoices", "builtin%3A..%2F..", "v_AAAAAAAAAAAAAAAAAAAAA%2F"])("%s is a 404 that leaks nothing", async (id) => {
    const res = await gw.api(`/voices/${id}`);
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.json)).not.toMatch(/\/tmp|gateway-test|voices\.json/);
  });
});
