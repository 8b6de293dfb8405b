// A chapter in one request against the real stand-in: refused up front when it cannot work,
// then 202, progress over SSE, the audio (Range, ETag) and captions timed to it, ffprobe as the judge.
import { readRecord, startStandin, synthWav, type StandinHandle } from "@cosyvoice3/testkit";
import { createParser } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probe } from "./helpers/ffprobe.ts";
import { voiceForm } from "./helpers/harness.ts";
import { apiOf, parseCues, startJobGateway, waitForJob } from "./jobs/stack.ts";
import { chineseBook, englishBook } from "./jobs/texts.ts";

const KEY_A = "key-a-0123456789abcdef";
const KEY_B = "key-b-0123456789abcdef";
const json = (body: unknown): RequestInit => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

// The stand-in speaks with espeak-ng behind Gradio: on a shared 2-core box a segment takes seconds.
describe("narration jobs: a chapter in one request", { timeout: 300_000 }, () => {
  let standin: StandinHandle;
  let gw: Awaited<ReturnType<typeof startJobGateway>>;
  let a: ReturnType<typeof apiOf>;
  let b: ReturnType<typeof apiOf>;
  let voice: string;

  beforeAll(async () => {
    standin = await startStandin({ variant: "cv3-en", model: "cosyvoice3" });
    gw = await startJobGateway({ cosyvoiceUrls: [standin.url], apiKeys: [KEY_A, KEY_B], jobs: { ...(await import("../src/platform/config.ts")).defaultConfig().jobs, segmentChars: 200, segmentQuota: 100 } });
    a = apiOf(gw.url, { authorization: `Bearer ${KEY_A}` });
    b = apiOf(gw.url, { authorization: `Bearer ${KEY_B}` });
    const created = await a("/voices", { method: "POST", body: voiceForm({ audio: synthWav({ sampleRate: 24_000, seconds: 3, f0: 200 }), name: "Me", promptText: "I like long walks." }) });
    expect(created.status).toBe(201);
    voice = created.json.id;
  });
  afterAll(async () => {
    await gw?.stop();
    await standin?.stop();
  });

  it("refuses at once what could never work: unknown voice, empty text, a mode the voice cannot do, a private callback", async () => {
    const calls = readRecord(standin.record).filter((e) => e.event === "call").length;
    const unknown = await a("/jobs", json({ text: "Hello there.", voice: "v_AAAAAAAAAAAAAAAAAAAAAA" }));
    expect(unknown.status).toBe(404);
    expect(unknown.json.type).toBe("urn:cosyvoice3-gateway:problem:voice-not-found");
    const empty = await a("/jobs", json({ text: "   ", voice }));
    expect(empty.status).toBe(400);
    expect(empty.json.errors[0].pointer).toBe("/text");
    const mode = await a("/jobs", json({ text: "Hello there.", voice, mode: "pretrained" }));
    expect(mode.status).toBe(422);
    expect(mode.json.type).toBe("urn:cosyvoice3-gateway:problem:voice-mode-mismatch");
    // Someone else's voice is as unknown as none.
    expect((await b("/jobs", json({ text: "Hello there.", voice }))).status).toBe(404);
    const hook = await a("/jobs", json({ text: "Hello there.", voice, callbackUrl: "http://127.0.0.1:9/hook" }));
    expect(hook.status).toBe(400);
    expect(hook.json.errors[0].pointer).toBe("/callbackUrl");
    expect((await a("/jobs")).json.jobs).toEqual([]);
    expect(readRecord(standin.record).filter((e) => e.event === "call").length).toBe(calls);
  });

  it("narrates an English chapter: 202 + Location, SSE progress to the end, audio and captions that agree with ffprobe", async () => {
    const text = englishBook(800, 3);
    const res = await a("/jobs", json({ text, voice, format: "mp3", seed: 4 }));
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ status: "queued", url: `/jobs/${res.json.id}` });
    expect(res.json.id).toMatch(/^j_/);
    expect(res.headers.get("location")).toBe(`/jobs/${res.json.id}`);
    const total = res.json.segments.total as number;
    expect(total).toBeGreaterThanOrEqual(4);

    // Follow it over SSE to its end.
    const events: { event: string; data: any }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
    const sse = await fetch(`${gw.url}/jobs/${res.json.id}/events`, { headers: { authorization: `Bearer ${KEY_A}` } });
    expect(sse.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const parser = createParser({ onEvent: (e) => events.push({ event: e.event ?? "message", data: JSON.parse(e.data) }) });
    const decoder = new TextDecoder();
    for await (const chunk of sse.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
    const end = events.at(-1);
    expect(end?.event).toBe("end");
    expect(end?.data).toMatchObject({ status: "succeeded", segments: { done: total, total } });
    const progress = events.filter((e) => e.event === "progress").map((e) => e.data.segments.done as number);
    expect(progress.length).toBeGreaterThan(1);
    expect([...progress].sort((x, y) => x - y)).toEqual(progress);

    const job = (await a(`/jobs/${res.json.id}`)).json;
    expect(job).toMatchObject({ status: "succeeded", segments: { done: total, total }, format: "mp3" });
    for (const k of ["startedAt", "finishedAt", "audioUrl", "captionsUrl", "durationMs"]) expect(job[k]).toBeDefined();

    // Each segment was synthesized exactly once, with its own text.
    const spoken = readRecord(standin.record).filter((e) => e.event === "call").map((e) => (e["inputs"] as Record<string, { value: string }>)["tts_text"]?.value ?? "");
    const joined = spoken.slice(-total).join(" ").replace(/\s+/g, "");
    expect(joined).toBe(text.replace(/\s+/g, ""));

    // The audio: whole, by Range, conditional.
    const whole = await a(job.audioUrl);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-type")).toBe("audio/mpeg");
    const etag = whole.headers.get("etag") as string;
    const part = await a(job.audioUrl, { headers: { range: "bytes=100-1099" } });
    expect(part.status).toBe(206);
    expect(Buffer.from(part.bytes)).toEqual(Buffer.from(whole.bytes.subarray(100, 1100)));
    expect((await a(job.audioUrl, { headers: { "if-none-match": etag } })).status).toBe(304);
    const probed = await probe(whole.bytes, "mp3");
    // MP3 frames round the end up to 1152 samples (48 ms at 24 kHz), plus the encoder's delay.
    expect(Math.abs(probed.decodedMs - job.durationMs)).toBeLessThan(120);

    // Captions: one cue per sentence, in order, the last ending with the audio.
    const vtt = await a(job.captionsUrl);
    expect(vtt.headers.get("content-type")).toMatch(/^text\/vtt/);
    const vttText = Buffer.from(vtt.bytes).toString("utf8");
    expect(vttText.startsWith("WEBVTT\n\n")).toBe(true);
    const cues = parseCues(vttText);
    const sentences = text.split(/(?<=[.!?…]["']?)\s+(?=["A-Z])/).filter((s) => s.trim() !== "");
    expect(cues.length).toBeGreaterThanOrEqual(sentences.length * 0.8);
    expect(cues[0]?.startMs).toBe(0);
    for (let i = 1; i < cues.length; i++) {
      expect(cues[i]!.startMs).toBeGreaterThanOrEqual(cues[i - 1]!.endMs - 1);
      expect(cues[i]!.endMs).toBeGreaterThan(cues[i]!.startMs);
    }
    expect(Math.abs(cues.at(-1)!.endMs - probed.decodedMs)).toBeLessThan(120);
    expect(cues.map((c) => c.text).join(" ").replace(/\s+/g, "")).toBe(text.replace(/\s+/g, ""));
    const srt = await a(`${job.captionsUrl}?format=srt`);
    expect(srt.headers.get("content-type")).toMatch(/^application\/x-subrip/);
    const srtText = Buffer.from(srt.bytes).toString("utf8");
    expect(srtText).toMatch(/^1\n00:00:00,000 --> /);
    expect(parseCues(srtText)).toEqual(cues);
  });

  it("narrates Chinese (no spaces, CJK punctuation) with one cue per sentence, timed from each segment's real length", async () => {
    const text = chineseBook(300, 5);
    const res = await a("/jobs", json({ text, voice, format: "wav", mode: "crossLingual" }));
    expect(res.status).toBe(202);
    const job = await waitForJob(a, res.json.id, (j) => j.status === "succeeded" || j.status === "failed", 240_000);
    expect(job.status).toBe("succeeded");
    const audio = await a(job.audioUrl);
    const probed = await probe(audio.bytes, "wav");
    const cues = parseCues(Buffer.from((await a(job.captionsUrl)).bytes).toString("utf8"));
    expect(cues.map((c) => c.text).join("")).toBe(text.replace(/\s+/g, ""));
    expect(Math.abs(cues.at(-1)!.endMs - probed.decodedMs)).toBeLessThan(5);
    // Every segment boundary is a cue boundary: a cue never straddles two segments' audio unless its sentence does.
    expect(cues.every((c) => /[。！？…”」]$/.test(c.text) || c.text.length > 100)).toBe(true);
  });

  it("lists only the caller's jobs, newest first, by pages; another key gets 404 on them", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await a("/jobs", json({ text: `Short job number ${i}.`, voice, format: "wav" }))).json.id);
    const first = await a("/jobs?limit=2");
    expect(first.status).toBe(200);
    expect(first.json.jobs.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[1]]);
    const second = await a(`/jobs?limit=2&cursor=${first.json.next}`);
    expect(second.json.jobs[0].id).toBe(ids[0]);
    expect((await b("/jobs")).json.jobs).toEqual([]);
    for (const path of [`/jobs/${ids[0]}`, `/jobs/${ids[0]}/events`, `/jobs/${ids[0]}/captions`]) {
      const r = await b(path);
      expect(r.status, path).toBe(404);
      expect(r.json.type).toBe("urn:cosyvoice3-gateway:problem:job-not-found");
    }
    expect((await b(`/jobs/${ids[0]}`, { method: "DELETE" })).status).toBe(404);
    for (const id of ids) await waitForJob(a, id, (j) => j.status === "succeeded", 240_000);
  });

  it("counts segments against the owner's quota (429 with Retry-After), never requests", async () => {
    const big = englishBook(30_000, 11);
    const refused = await a("/jobs", json({ text: big, voice }));
    expect(refused.status).toBe(429);
    expect(refused.json.type).toBe("urn:cosyvoice3-gateway:problem:job-quota");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // Key B's quota is its own.
    const other = await b("/voices", { method: "POST", body: voiceForm({ audio: synthWav({ sampleRate: 24_000, seconds: 3, f0: 180 }), name: "B", promptText: "Hello." }) });
    expect((await b("/jobs", json({ text: "One more.", voice: other.json.id, format: "wav" }))).status).toBe(202);
  });
});
