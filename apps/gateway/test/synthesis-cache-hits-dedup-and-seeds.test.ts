/**
 * The synthesis cache against the real stand-in through the real SDK: a repeated deterministic
 * request is answered without the backend (the stand-in's record shows no new job; even a
 * stopped stand-in answers it), into a clip of the caller's own; a different seed misses;
 * identical requests in flight share one job; a caller that leaves a shared job does not cancel
 * it, and the last one leaving does (the record shows the job cancelled).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePrometheus, readRecord, sampleValue, startStandin, waitForRecord, type RecordEntry, type StandinHandle } from "@cosyvoice3/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectingBackend } from "../src/backends/gradio/driver.ts";
import { SynthesisCache } from "../src/service/cache/index.ts";
import { createMetrics, type GatewayMetrics } from "../src/platform/metrics/index.ts";
import { DiskAudioStore } from "../src/platform/stores/audio-store.ts";
import { isAdts } from "./helpers/clip.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";

const VOICE = "builtin:英文女";
const KEY_A = "key-a-0123456789abcdef0123456789";
const KEY_B = "key-b-abcdef0123456789abcdef0123";
/** A POST /synthesize as the owner of `key` (A by default). */
const post = (body: Record<string, unknown>, key = KEY_A) => jsonPost(body, { authorization: `Bearer ${key}` });
const jobs = (rec: RecordEntry[]) => rec.filter((e) => e.event === "call" && e["fn"] === "generate_audio");

let standin: StandinHandle;
let gw: TestGateway;
let metrics: GatewayMetrics;
const bytesOf = async (url: string) => Buffer.from((await gw.api(url, { headers: { authorization: `Bearer ${KEY_A}` } })).bytes);
const cacheCount = async (result: string) => sampleValue(parsePrometheus(await metrics.registry.metrics()), "cosyvoice_gateway_cache_requests_total", { result });

beforeAll(async () => {
  standin = await startStandin({ variant: "official", model: "cosyvoice1", firstChunkDelayMs: 600 });
  const store = await DiskAudioStore.open(join(mkdtempSync(join(tmpdir(), "cache-")), "cache"), { ttlMs: 60_000, maxBytes: 50_000_000 });
  const cache = new SynthesisCache({ store, logger: pino({ level: "silent" }) });
  metrics = createMetrics({ processMetrics: false });
  // No health check has run: the first request learns the backend's model (part of the key) itself.
  gw = await startTestGateway({ backend: connectingBackend(standin.url, { client: { model: "cosyvoice1", maxRetries: 0 } }), cache, metrics, config: { apiKeys: [KEY_A, KEY_B] } });
}, 90_000);
afterAll(async () => {
  await gw?.close();
  await standin?.stop();
});

describe("synthesis cache", () => {
  it("a repeated request with the same seed is a hit: no new backend job; another owner gets its own clip of the same audio", async () => {
    const first = await gw.api("/synthesize", post({ text: "Cached words.", voice: VOICE, seed: 5 }));
    expect(first.status).toBe(201);
    const hits = (await cacheCount("hit")) + (await cacheCount("shared"));
    const before = jobs(readRecord(standin.record)).length;
    const again = await gw.api("/synthesize", post({ text: "Cached words.", voice: VOICE, seed: 5 }, KEY_B));
    expect(again.status).toBe(201);
    expect(again.json.id).not.toBe(first.json.id);
    // The same owner asking again gets its clip back (nothing written).
    const mine = await gw.api("/synthesize", post({ text: "Cached words.", voice: VOICE, seed: 5 }));
    expect(mine.json.id).toBe(first.json.id);
    expect(again.json).toMatchObject({ durationMs: first.json.durationMs, chunks: first.json.chunks, sampleRate: first.json.sampleRate, voice: VOICE, mode: "pretrained" });
    expect(jobs(readRecord(standin.record)).length).toBe(before);
    expect((await bytesOf(again.json.url)).equals(await bytesOf(first.json.url))).toBe(true);
    // The entry is written before the first answer goes out, so the repeat reads it.
    expect((await cacheCount("hit")) + (await cacheCount("shared")) - hits).toBe(2);
    expect(await cacheCount("hit")).toBe(2);
  }, 60_000);

  it("a different seed, text or speed misses", async () => {
    const before = jobs(readRecord(standin.record)).length;
    for (const body of [{ seed: 6 }, { seed: 5, text: "Other words." }, { seed: 5, speed: 1.2 }]) {
      expect((await gw.api("/synthesize", post({ text: "Cached words.", voice: VOICE, ...body }))).status).toBe(201);
    }
    expect(jobs(readRecord(standin.record)).length).toBe(before + 3);
  }, 60_000);

  it("identical requests in flight share one job, and each caller gets its own clip", async () => {
    const before = jobs(readRecord(standin.record)).length;
    const shared = await cacheCount("shared");
    const body = post({ text: "Three at once.", voice: VOICE, seed: 11 });
    const all = await Promise.all([1, 2, 3].map(() => gw.api("/synthesize", body)));
    expect(all.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(new Set(all.map((r) => r.json.id)).size).toBe(3);
    expect(jobs(readRecord(standin.record)).length).toBe(before + 1);
    const bytes = await Promise.all(all.map((r) => bytesOf(r.json.url)));
    expect(bytes[1]!.equals(bytes[0]!) && bytes[2]!.equals(bytes[0]!)).toBe(true);
    expect((await cacheCount("shared")) - shared).toBe(2);
  }, 60_000);

  it("a caller leaving a shared job does not cancel it; the last one leaving does", async () => {
    const body = { text: "Leave or stay.", voice: VOICE, seed: 21 };
    const leaving = new AbortController();
    const gone = fetch(gw.url + "/synthesize", { ...post(body), signal: leaving.signal }).catch(() => "aborted");
    const rec0 = await waitForRecord(standin.record, (r) => r.some((e) => e.event === "call" && (e["inputs"] as Record<string, unknown>)?.["tts_text"] !== undefined && JSON.stringify(e).includes("Leave or stay.")));
    const job = jobs(rec0).at(-1)?.["job"];
    const staying = gw.api("/synthesize", post(body));
    await new Promise((r) => setTimeout(r, 100));
    leaving.abort();
    expect(await gone).toBe("aborted");
    expect((await staying).status).toBe(201);
    expect(readRecord(standin.record).some((e) => e["job"] === job && e.event === "cancelled")).toBe(false);

    const alone = new AbortController();
    const lone = fetch(gw.url + "/synthesize", { ...post({ ...body, seed: 22 }), signal: alone.signal }).catch(() => "aborted");
    const rec1 = await waitForRecord(standin.record, (r) => jobs(r).length > jobs(rec0).length + 0 && jobs(r).at(-1)?.["job"] !== job);
    const lonely = jobs(rec1).at(-1)?.["job"];
    alone.abort();
    await lone;
    await waitForRecord(standin.record, (r) => r.some((e) => e["job"] === lonely && e.event === "cancelled"));
  }, 60_000);

  it("a stream is cached too: the repeat is AAC from the cache without a backend job", async () => {
    const body = post({ text: "Streamed once. Then cached.", voice: VOICE, seed: 31, stream: true });
    const first = await gw.api("/synthesize", body);
    expect(first.status).toBe(200);
    expect(isAdts(first.bytes)).toBe(true);
    const before = jobs(readRecord(standin.record)).length;
    const again = await gw.api("/synthesize", body);
    expect(again.status).toBe(200);
    expect(Buffer.from(again.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    expect(jobs(readRecord(standin.record)).length).toBe(before);
    const id = again.headers.get("x-audio-id");
    expect(id).not.toBe(first.headers.get("x-audio-id"));
    expect(Buffer.from((await gw.api(`/audio/${id}`)).bytes).equals(Buffer.from(first.bytes))).toBe(true);
  }, 60_000);

  it("identical streams in flight share one job; each gets every chunk and a clip of its own", async () => {
    const before = jobs(readRecord(standin.record)).length;
    const body = post({ text: "Streamed twice at once. Second sentence.", voice: VOICE, seed: 35, stream: true });
    const [a, b] = await Promise.all([gw.api("/synthesize", body), gw.api("/synthesize", body)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(isAdts(a.bytes)).toBe(true);
    expect(jobs(readRecord(standin.record)).length).toBe(before + 1);
    const ids = [a.headers.get("x-audio-id"), b.headers.get("x-audio-id")];
    expect(ids[0]).not.toBe(ids[1]);
    for (const id of ids) expect(Buffer.from((await gw.api(`/audio/${id}`)).bytes).equals(Buffer.from(a.bytes))).toBe(true);
  }, 60_000);

  it("a hit needs no backend at all, even once the pool knows it is down", async () => {
    const body = post({ text: "Still here.", voice: VOICE, seed: 41 });
    expect((await gw.api("/synthesize", body)).status).toBe(201);
    await standin.stop();
    await gw.pool.checkAll();
    expect(gw.pool.status()[0]?.state).toBe("down");
    const hit = await gw.api("/synthesize", body);
    expect(hit.status).toBe(201);
    // A miss now gets the real error.
    expect((await gw.api("/synthesize", post({ text: "Not cached.", voice: VOICE, seed: 42 }))).status).toBe(502);
  }, 60_000);
});
