/**
 * The cache's parts without HTTP: the content key changes with anything that changes the audio
 * (and only with that); identical jobs in flight run once; a follower leaving does not cancel the
 * others, the last one leaving does; entries survive in the disk store with their chunk count.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { cacheKey, NobodyListeningError, PromptHashes, SharedJobs, SynthesisCache, type SynthesisFingerprint } from "../src/service/cache/index.ts";
import { DiskAudioStore } from "../src/platform/stores/audio-store.ts";

const base: SynthesisFingerprint = { model: "cosyvoice3", variant: "official", mode: "pretrained", text: "Hello.", speaker: "中文女", seed: 7, format: "wav" };

describe("cacheKey", () => {
  it("is stable, ignores key order and spells speed 1 the same as no speed", () => {
    expect(cacheKey(base)).toBe(cacheKey({ ...base }));
    expect(cacheKey({ ...base, instruct: { emotion: "happy", dialect: "x" } })).toBe(cacheKey({ ...base, instruct: { dialect: "x", emotion: "happy" } }));
    expect(cacheKey({ ...base, speed: 1 })).toBe(cacheKey(base));
    expect(cacheKey(base)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it.each<[string, Partial<SynthesisFingerprint>]>([
    ["seed", { seed: 8 }],
    ["text", { text: "Hello!" }],
    ["speed", { speed: 1.1 }],
    ["format", { format: "aac" }],
    ["mode", { mode: "instruct" }],
    ["model", { model: "cosyvoice2" }],
    ["variant", { variant: "cv3-en" }],
    ["speaker", { speaker: "英文男" }],
    ["prompt audio", { speaker: undefined, promptAudioSha256: "ab" }],
    ["instruct", { instruct: { emotion: "sad" } }],
  ])("changes with the %s", (_what, change) => {
    expect(cacheKey({ ...base, ...change })).not.toBe(cacheKey(base));
  });

  it("a voice's prompt hash is computed once per voice id", () => {
    const hashes = new PromptHashes();
    const a = hashes.of("v_1", new Uint8Array([1, 2, 3]));
    expect(hashes.of("v_1", new Uint8Array([9]))).toBe(a);
    expect(hashes.of("v_2", new Uint8Array([1, 2, 3]))).toBe(a);
  });
});

/** A job that yields `n` items once released, and records whether it was aborted. */
function gatedJob(n: number) {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const state = { starts: 0, aborted: undefined as unknown };
  return {
    state,
    open,
    async *start(signal: AbortSignal) {
      state.starts++;
      signal.addEventListener("abort", () => (state.aborted = signal.reason), { once: true });
      await Promise.race([gate, new Promise((_r, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }))]);
      for (let i = 0; i < n; i++) yield i;
    },
  };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("SharedJobs", () => {
  it("identical jobs in flight run once and every caller gets every item", async () => {
    const jobs = new SharedJobs<number>();
    const job = gatedJob(3);
    const a = jobs.join("k", job);
    const b = jobs.join("k", job);
    expect([a.shared, b.shared]).toEqual([false, true]);
    const results = Promise.all([collect(a.follow()), collect(b.follow())]);
    await new Promise((r) => setTimeout(r, 10));
    job.open();
    expect(await results).toEqual([[0, 1, 2], [0, 1, 2]]);
    expect(job.state.starts).toBe(1);
    expect(jobs.size).toBe(0);
  });

  it("a late follower gets the items already made, then the rest", async () => {
    const jobs = new SharedJobs<number>();
    let release!: () => void;
    const half = new Promise<void>((r) => (release = r));
    const spec = {
      async *start() {
        yield 0;
        await half;
        yield 1;
      },
    };
    const a = jobs.join("k", spec).follow();
    expect((await a.next()).value).toBe(0);
    const late = collect(jobs.join("k", spec).follow());
    release();
    expect(await collect(a)).toEqual([1]);
    expect(await late).toEqual([0, 1]);
  });

  it("a caller that leaves does not cancel the others; the last one leaving aborts the job", async () => {
    const jobs = new SharedJobs<number>();
    const job = gatedJob(1);
    const leaving = new AbortController();
    const staying = new AbortController();
    const first = collect(jobs.join("k", job).follow(leaving.signal));
    const second = collect(jobs.join("k", job).follow(staying.signal));
    await new Promise((r) => setTimeout(r, 10));
    leaving.abort(new Error("client gone"));
    await expect(first).rejects.toThrow("client gone");
    expect(job.state.aborted).toBeUndefined();
    staying.abort(new Error("second gone"));
    await expect(second).rejects.toThrow("second gone");
    expect(job.state.aborted).toBeInstanceOf(NobodyListeningError);
    // The next identical request starts afresh rather than joining the dead job.
    const again = gatedJob(1);
    const third = jobs.join("k", again);
    expect(third.shared).toBe(false);
    again.open();
    expect(await collect(third.follow())).toEqual([0]);
  });

  it("a failure reaches every follower and the next caller starts afresh", async () => {
    const jobs = new SharedJobs<number>();
    // eslint-disable-next-line require-yield
    const failing = { async *start(): AsyncGenerator<number> { throw new Error("box fault"); } };
    const both = Promise.allSettled([collect(jobs.join("k", failing).follow()), collect(jobs.join("k", failing).follow())]);
    expect((await both).map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(jobs.join("k", failing).shared).toBe(false);
  });
});

describe("SynthesisCache on the disk store", () => {
  it("keeps a clip with its type, rate, duration and chunk count; unknown keys miss", async () => {
    const store = await DiskAudioStore.open(join(mkdtempSync(join(tmpdir(), "cache-")), "cache"), { ttlMs: 60_000, maxBytes: 10_000_000 });
    const cache = new SynthesisCache({ store, logger: pino({ level: "silent" }) });
    const key = cacheKey(base);
    expect(await cache.lookup(key)).toBeUndefined();
    await cache.save(key, { mimeType: "audio/wav", sampleRate: 22_050, durationMs: 1500, chunks: 3, audio: new Uint8Array([1, 2, 3, 4]) });
    const hit = await cache.lookup(key);
    expect(hit).toMatchObject({ mimeType: "audio/wav", sampleRate: 22_050, durationMs: 1500, chunks: 3 });
    expect([...hit!.audio]).toEqual([1, 2, 3, 4]);
    expect(await cache.lookup(cacheKey({ ...base, seed: 8 }))).toBeUndefined();
    await cache.close();
  });
});
