// A gateway killed with SIGKILL mid-job: the job resumes from its last finished segment when the
// gateway comes back (embedded: disk), or on the other instance (Redis + BullMQ); no finished
// segment is ever synthesized again, and the narration is whole.
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readRecord, startRedis, startStandin, type RedisHandle, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probe } from "./helpers/ffprobe.ts";
import { apiOf, spawnGateway, waitForJob, type GatewayProcess } from "./jobs/stack.ts";
import { englishBook } from "./jobs/texts.ts";

const VOICE = "builtin:英文女";
const json = (body: unknown): RequestInit => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** Each text the stand-in was asked to speak, in order. */
const spoken = (standin: StandinHandle) =>
  readRecord(standin.record)
    .filter((e) => e.event === "call")
    .map((e) => (e["inputs"] as Record<string, { value: string }>)["tts_text"]?.value ?? "");

/** How many segments were finished each time a gateway took the job up (its log says). */
const takenUp = (p: GatewayProcess, id: string) =>
  [...p.output().matchAll(new RegExp(`"job":"${id}","segments":\\d+,"finished":(\\d+)`, "g"))].map((m) => Number(m[1]));

/** The finished segments on disk (embedded). */
const finishedOnDisk = (dataDir: string, id: string) => readdirSync(join(dataDir, "jobs", id)).filter((n) => /^seg-\d+\.json$/.test(n)).length;

describe("a job survives SIGKILL of its gateway", { timeout: 400_000 }, () => {
  let standin: StandinHandle;
  let redis: RedisHandle;
  const procs: GatewayProcess[] = [];
  // Segments of about one sentence: what is tested is how many were finished at the kill, so the
  // jobs keep 12 and 13 segments (13 and 17 before) at 485 and 641 characters instead of 1,498 and 1,301.
  const base = { COSYVOICE_URL: "", COSYVOICE_MODEL: "cosyvoice1", JOB_SEGMENT_CHARS: "60", CACHE_MAX_BYTES: "0" };

  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice1", firstChunkDelayMs: 200, chunkDelayMs: 200 });
    base.COSYVOICE_URL = standin.url;
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const p of procs) await p.kill("SIGKILL");
    await standin?.stop();
    await redis?.stop();
  });

  it("embedded: resumes from the last finished segment when the gateway comes back", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "gw-kill-"));
    const first = await spawnGateway({ ...base, DATA_DIR: dataDir });
    procs.push(first);
    const text = englishBook(600, 31);
    const api = apiOf(first.url);
    const res = await api("/jobs", json({ text, voice: VOICE, format: "mp3" }));
    expect(res.status).toBe(202);
    const { id } = res.json as { id: string };
    const total = res.json.segments.total as number;
    expect(total).toBeGreaterThanOrEqual(6);
    await waitForJob(api, id, (j) => j.segments.done >= 2, 120_000, 20);
    await first.kill("SIGKILL");
    const before = finishedOnDisk(dataDir, id);
    const finishedTexts = new Set(spoken(standin).slice(0, before));
    expect(before).toBeGreaterThanOrEqual(2);
    expect(before).toBeLessThan(total);

    const second = await spawnGateway({ ...base, DATA_DIR: dataDir });
    procs.push(second);
    const api2 = apiOf(second.url);
    const job = await waitForJob(api2, id, (j) => j.status === "succeeded" || j.status === "failed", 240_000);
    expect(job.status).toBe("succeeded");
    expect(job.segments).toEqual({ done: total, total });
    expect(takenUp(second, id), "the second gateway took the job up where the first stopped").toEqual([before]);

    // Every segment finished before the kill was spoken once; the whole text was spoken.
    const all = spoken(standin);
    for (const t of finishedTexts) expect(all.filter((x) => x === t), t).toHaveLength(1);
    expect(new Set(all).size).toBe(total);
    expect(all.length).toBeLessThanOrEqual(total + 1); // at most the segment the kill cut short, again
    const audio = await api2(job.audioUrl);
    const probed = await probe(audio.bytes, "mp3");
    expect(Math.abs(probed.decodedMs - job.durationMs)).toBeLessThan(120);
    await second.kill("SIGTERM");
  });

  it("Redis + BullMQ, two instances: the other instance takes the job up from its last finished segment", async () => {
    const before = spoken(standin).length;
    const env = { ...base, STORE: "redis", REDIS_URL: redis.url, REDIS_KEY_PREFIX: `kill-${Date.now()}:`, JOB_LOCK_MS: "2000", DATA_DIR: mkdtempSync(join(tmpdir(), "gw-kill-r-")) };
    const [a, b] = await Promise.all([spawnGateway(env), spawnGateway(env)]);
    procs.push(a, b);
    const text = englishBook(400, 32);
    const res = await apiOf(a.url)("/jobs", json({ text, voice: VOICE, format: "wav" }));
    expect(res.status).toBe(202);
    const { id } = res.json as { id: string };
    const total = res.json.segments.total as number;
    // Whichever instance took it, kill that one once it has finished two segments.
    await waitForJob(apiOf(b.url), id, (j) => j.segments.done >= 2, 120_000, 20);
    const runner = a.output().includes(`"job":"${id}","segments"`) ? a : b;
    const other = runner === a ? b : a;
    await runner.kill("SIGKILL");
    const atKill = (await apiOf(other.url)(`/jobs/${id}`)).json.segments.done as number;
    const finishedTexts = new Set(spoken(standin).slice(before, before + atKill));

    const job = await waitForJob(apiOf(other.url), id, (j) => j.status === "succeeded" || j.status === "failed", 240_000);
    expect(job.status).toBe("succeeded");
    expect(takenUp(other, id).at(-1), "the other instance took the job up where the first stopped").toBe(atKill);
    const all = spoken(standin).slice(before);
    for (const t of finishedTexts) expect(all.filter((x) => x === t), t).toHaveLength(1);
    expect(new Set(all).size).toBe(total);
    expect(all.length).toBeLessThanOrEqual(total + 1);
    const audio = await apiOf(other.url)(job.audioUrl);
    const probed = await probe(audio.bytes, "wav");
    expect(Math.abs(probed.decodedMs - job.durationMs)).toBeLessThan(2);
    await other.kill("SIGTERM");
  });
});
