/**
 * The typed client against the real gateway in front of the real stand-in: every operation the
 * OpenAPI document lists is called through it (a last test fails if one was not), the helpers
 * take Node Buffers, Blobs and Files, and errors arrive typed: problems as `Problem` bodies and
 * `ApiError`s, a dead gateway as `ApiConnectionError`, an abort as `ApiUserAbortError` that
 * cancels the job on the UI.
 */
import { readFileSync } from "node:fs";
import { synthWav, waitForRecord, freePort } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { parse } from "yaml";
import { OPENAPI_YAML } from "../scripts/types-from-openapi.ts";
import {
  ApiConnectionError,
  ApiError,
  ApiUserAbortError,
  createClient,
  unwrap,
  type CosyVoiceClient,
  type Problem,
  type Voice,
  cancelJob,
  createJob,
  narrate,
  waitForJob,
} from "../src/index.ts";
import { startStack, type Stack } from "./helpers/stack.ts";

const KEY = "client-test-key-0123456789abcdef";
const PROMPT_TEXT = "Hello, this is my voice for the client test.";
const wav = () => new Uint8Array(synthWav({ sampleRate: 24_000, seconds: 3, f0: 170 }));

/** `method path` of every operation in openapi.yaml. */
function documentedOperations(): string[] {
  const doc = parse(readFileSync(OPENAPI_YAML, "utf8")) as { paths: Record<string, Record<string, unknown>> };
  const methods = new Set(["get", "post", "put", "patch", "delete", "head", "options"]);
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).filter((m) => methods.has(m)).map((m) => `${m} ${path}`));
}

describe("cosyvoice3-client against the gateway", () => {
  let stack: Stack;
  let api: CosyVoiceClient;
  const seen = new Set<string>();
  let saved: Voice;

  beforeAll(async () => {
    // Chunks 400 ms apart, so a streamed job of several sentences is still running when aborted.
    stack = await startStack({ chunkDelayMs: 400 }, { apiKeys: [KEY] });
    api = createClient({ baseUrl: stack.gatewayUrl, apiKey: KEY });
    api.use({
      onResponse({ request, schemaPath }) {
        seen.add(`${request.method.toLowerCase()} ${schemaPath}`);
      },
    });
  });
  afterAll(() => stack?.close());

  it("what the backend can do (GET /capabilities), typed", async () => {
    const caps = unwrap(await api.GET("/capabilities"));
    expect(caps.modes).toEqual(expect.arrayContaining(["clone", "crossLingual"]));
    expect(caps.voices.saved).toBe(true);
    // The official UI with CosyVoice3 has no instruct mode.
    expect(caps.instruct).toBeNull();
  });

  it("health, readiness, metrics, the document and Swagger UI", async () => {
    expect(unwrap(await api.GET("/healthz"))).toEqual({ status: "ok" });
    const ready = unwrap(await api.GET("/readyz"));
    expect(ready.backend.modes).toEqual(expect.arrayContaining(["clone", "crossLingual"]));
    expect(ready.backends[0]?.state).toBe("up");
    const doc = unwrap(await api.GET("/openapi.json"));
    expect(doc).toMatchObject({ openapi: "3.1.0" });
    const metrics = await api.GET("/metrics", { parseAs: "text" });
    expect(metrics.response.status).toBe(200);
    expect(metrics.data).toMatch(/^# (HELP|TYPE) /m);
    const docs = await api.GET("/docs", { parseAs: "text" });
    expect(docs.response.status).toBe(200);
    expect(docs.data).toContain("swagger-ui");
  });

  it("saves a voice from a Node Buffer, lists it, reads it", async () => {
    saved = await api.saveVoice({ audio: wav(), name: "Buffer Ann", promptText: PROMPT_TEXT });
    expect(saved).toMatchObject({ name: "Buffer Ann", kind: "cloned", promptText: PROMPT_TEXT, audio: { sampleRate: 24_000 } });
    expect(saved.id).toMatch(/^v_/);
    const { voices } = unwrap(await api.GET("/voices"));
    expect(voices.map((v) => v.id)).toContain(saved.id);
    const one = unwrap(await api.GET("/voices/{id}", { params: { path: { id: saved.id } } }));
    expect(one).toEqual(saved);
  });

  it("saves from a Blob and from a File (what a browser has), then deletes one", async () => {
    const fromBlob = await api.saveVoice({ audio: new Blob([wav()], { type: "audio/wav" }), name: "Blob Bo" });
    const fromFile = await api.saveVoice({ audio: new File([wav()], "rec.wav", { type: "audio/wav" }), name: "File Cy", promptText: PROMPT_TEXT });
    expect(fromBlob.promptText).toBeUndefined();
    expect(fromFile.audio?.mimeType).toBe("audio/wav");
    const del = await api.DELETE("/voices/{id}", { params: { path: { id: fromBlob.id } } });
    expect(del.response.status).toBe(204);
    const gone = await api.GET("/voices/{id}", { params: { path: { id: fromBlob.id } } });
    expect(gone.response.status).toBe(404);
  });

  it("synthesizes a whole clip (201) and fetches it with GET and HEAD", async () => {
    const raw = await api.POST("/synthesize", { body: { text: "Good morning.", voice: saved.id, seed: 7 } });
    expect(raw.response.status).toBe(201);
    const clip = await api.synthesize({ text: "Good morning.", voice: saved.id, seed: 7 });
    expectTypeOf(clip.durationMs).toBeNumber();
    expect(raw.data).toMatchObject({ mimeType: "audio/wav", bytes: clip.bytes, durationMs: clip.durationMs });
    expect(clip).toMatchObject({ mimeType: "audio/wav", mode: "clone", voice: saved.id, sampleRate: 24_000 });
    const audio = await api.GET("/audio/{id}", { params: { path: { id: clip.id } }, parseAs: "arrayBuffer" });
    expect(audio.response.headers.get("content-type")).toBe("audio/wav");
    expect(Buffer.from(audio.data!).subarray(0, 4).toString("ascii")).toBe("RIFF");
    expect(audio.data!.byteLength).toBe(clip.bytes);
    const head = await api.HEAD("/audio/{id}", { params: { path: { id: clip.id } } });
    expect(head.response.status).toBe(200);
    expect(head.response.headers.get("content-length")).toBe(String(clip.bytes));
  });

  it("streams a synthesis as a web ReadableStream of AAC, then the whole clip is at its url", async () => {
    const s = await api.streamSynthesis({ text: "One sentence here. And a second one.", voice: saved.id, seed: 3 });
    expect(s.mimeType).toBe("audio/aac");
    expect(s.body).toBeInstanceOf(ReadableStream);
    const parts: Uint8Array[] = [];
    const reader = s.body.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
    const all = Buffer.concat(parts);
    expect(all[0]).toBe(0xff);
    expect((all[1] ?? 0) & 0xf6).toBe(0xf0);
    const stored = await api.GET("/audio/{id}", { params: { path: { id: s.audioId } }, parseAs: "arrayBuffer" });
    expect(stored.response.headers.get("content-type")).toBe("audio/aac");
    expect(Buffer.from(stored.data!).equals(all)).toBe(true);
    expect(s.url).toBe(`/audio/${s.audioId}`);
  });

  it("the OpenAI routes under /v1: models, voices, speech and a custom voice", async () => {
    const models = unwrap(await api.GET("/v1/models"));
    const first = models.data[0];
    expect(first).toBeDefined();
    const model = unwrap(await api.GET("/v1/models/{id}", { params: { path: { id: first!.id } } }));
    expect((model as { id?: string }).id).toBe(first!.id);
    const audioModels = unwrap(await api.GET("/v1/audio/models"));
    expect(audioModels.models.length).toBeGreaterThan(0);
    const { voices } = unwrap(await api.GET("/v1/audio/voices"));
    expect(voices.map((v) => v.id)).toContain(saved.id);
    const speech = await api.POST("/v1/audio/speech", { body: { model: "tts-1", input: "Good evening.", voice: saved.id, response_format: "wav" }, parseAs: "arrayBuffer" });
    expect(speech.response.status).toBe(200);
    expect(Buffer.from(speech.data as unknown as ArrayBuffer).subarray(0, 4).toString("ascii")).toBe("RIFF");
    // A consent first (the helper), then the voice under it, OpenAI's way.
    const consent = await api.recordConsent({ recording: wav(), name: "Di", language: "en-US" });
    expect(consent).toMatchObject({ object: "audio.voice_consent", name: "Di", language: "en-US" });
    const form = new FormData();
    form.append("name", "OpenAI Di");
    form.append("consent", consent.id);
    form.append("audio_sample", new Blob([wav()], { type: "audio/wav" }), "di.wav");
    const created = unwrap(await api.POST("/v1/audio/voices", { body: form as never, bodySerializer: (b: unknown) => b as FormData }));
    expect(created).toMatchObject({ object: "audio.voice", type: "audio_sample" });
    // The consent calls, typed.
    const page = unwrap(await api.GET("/v1/audio/voice_consents", { params: { query: { limit: 1 } } }));
    expect(page).toMatchObject({ object: "list", data: [{ id: consent.id }], has_more: false });
    const path = { params: { path: { id: consent.id } } };
    expect(unwrap(await api.GET("/v1/audio/voice_consents/{id}", path)).name).toBe("Di");
    expect(unwrap(await api.POST("/v1/audio/voice_consents/{id}", { ...path, body: { name: "Di (signed)" } })).name).toBe("Di (signed)");
    expect(unwrap(await api.DELETE("/v1/audio/voices/{id}", { params: { path: { id: created.id } } }))).toEqual({ id: created.id, deleted: true, object: "audio.voice.deleted" });
    expect(unwrap(await api.DELETE("/v1/audio/voice_consents/{id}", path))).toEqual({ id: consent.id, deleted: true, object: "audio.voice_consent" });
    // A /v1 mistake is an ApiError typed from OpenAI's error body.
    const missing = await api.GET("/v1/audio/voice_consents/{id}", path).then(unwrap).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect((missing as ApiError).problem.type).toBe("openai:consent_not_found");
  });

  describe("errors are typed", () => {
    it("a problem body is the typed `error` of the result (401 without a key)", async () => {
      const open = createClient({ baseUrl: stack.gatewayUrl });
      const { data, error, response } = await open.GET("/voices");
      expectTypeOf(error).toEqualTypeOf<Problem | undefined>();
      expect(data).toBeUndefined();
      expect(response.status).toBe(401);
      expect(error).toMatchObject({ type: "urn:cosyvoice3-gateway:problem:unauthorized", status: 401 });
    });

    it("unwrap throws an ApiError with the slug, the problem and the request id (404)", async () => {
      const err = await api
        .GET("/voices/{id}", { params: { path: { id: "v_0000000000000000000000" } } })
        .then(unwrap)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      const e = err as ApiError;
      expect(e.status).toBe(404);
      expect(e.slug).toBe("voice-not-found");
      expect(e.requestId).toMatch(/.+/);
      expect(e.problem.instance).toContain("/voices/");
    });

    it("a field problem carries its JSON pointer (400 on a bad speed)", async () => {
      const { error } = await api.POST("/synthesize", { body: { text: "Hi.", voice: saved.id, speed: 9 } });
      expect(error?.status).toBe(400);
      expect(error?.errors?.map((x) => x.pointer)).toContain("/speed");
    });

    it("saveVoice of bytes that are not audio is an ApiError 415 not-audio", async () => {
      const err = await api.saveVoice({ audio: new TextEncoder().encode("not audio at all, just text"), name: "Nope" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).slug).toBe("not-audio");
      expect((err as ApiError).status).toBe(415);
    });

    it("streamSynthesis refused before any audio is an ApiError (404 unknown voice)", async () => {
      const err = await api.streamSynthesis({ text: "Hello.", voice: "v_0000000000000000000000" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).slug).toBe("voice-not-found");
    });

    it("a gateway that does not answer is an ApiConnectionError", async () => {
      const dead = createClient({ baseUrl: `http://127.0.0.1:${await freePort()}` });
      const err = await dead.GET("/healthz").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiConnectionError);
      expect((err as Error).message).toMatch(/Cannot reach the gateway/);
    });

    it("aborting a streamed synthesis is an ApiUserAbortError, and the UI's job is cancelled", async () => {
      const ac = new AbortController();
      const s = await api.streamSynthesis(
        { text: "First sentence. Second sentence. Third sentence. Fourth sentence. Fifth sentence.", voice: saved.id, seed: 11 },
        { signal: ac.signal },
      );
      const reader = s.body.getReader();
      expect((await reader.read()).done).toBe(false);
      ac.abort();
      const err = await reader.read().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiUserAbortError);
      const record = await waitForRecord(stack.standin.record, (r) => r.some((e) => e.event === "cancelled"));
      const cancelled = record.find((e) => e.event === "cancelled");
      expect(record.filter((e) => e.event === "chunk" && e["job"] === cancelled?.["job"]).length).toBeLessThan(5);
    });
  });

  it("narrates a text as a job: createJob, waitForJob over SSE with progress, list, captions, delete", async () => {
    const text = "The first sentence of the chapter. A second one follows it. And a third ends the page.";
    const progress: number[] = [];
    const job = await narrate(api, { text, voice: saved.id, format: "wav" }, { onProgress: (j) => progress.push(j.segments.done) });
    expect(job).toMatchObject({ status: "succeeded", segments: { done: job.segments.total } });
    expect(progress.length).toBeGreaterThan(0);
    const { jobs } = unwrap(await api.GET("/jobs", { params: { query: { limit: 10 } } }));
    expect(jobs.map((j) => j.id)).toContain(job.id);
    expect(unwrap(await api.GET("/jobs/{id}", { params: { path: { id: job.id } } })).audioUrl).toBe(job.audioUrl);
    const vtt = await api.GET("/jobs/{id}/captions", { params: { path: { id: job.id }, query: { format: "vtt" } }, parseAs: "text" });
    expect(vtt.data).toMatch(/^WEBVTT\n\n1\n00:00:00\.000 --> /);
    const audio = await api.GET("/audio/{id}", { params: { path: { id: job.audioUrl!.replace("/audio/", "") } }, parseAs: "arrayBuffer" });
    expect(Buffer.from(audio.data!).subarray(0, 4).toString("ascii")).toBe("RIFF");
    expect(await cancelJob(api, job.id)).toBeUndefined();
    const gone = await waitForJob(api, job.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ApiError);
    expect((gone as ApiError).slug).toBe("job-not-found");
  });

  it("cancels a running job (DELETE answers it canceled), and a job that cannot work is refused at once", async () => {
    const long = Array.from({ length: 30 }, (_, i) => `Sentence number ${i + 1} of a longer text.`).join(" ");
    const accepted = await createJob(api, { text: long, voice: saved.id });
    expect(accepted).toMatchObject({ status: "queued" });
    const canceled = await cancelJob(api, accepted.id);
    expect(canceled?.status).toBe("canceled");
    const bad = await createJob(api, { text: "Hi.", voice: "v_0000000000000000000000" }).catch((e: unknown) => e);
    expect((bad as ApiError).slug).toBe("voice-not-found");
  });

  it("called every operation the OpenAPI document lists", () => {
    const missing = documentedOperations().filter((op) => !seen.has(op));
    expect(missing, `operations no test called through the client: ${missing.join(", ")}`).toEqual([]);
  });
});
