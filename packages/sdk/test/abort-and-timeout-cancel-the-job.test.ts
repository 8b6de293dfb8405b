/**
 * An abort or a deadline cancels the Gradio job for real: the call rejects within a second, the
 * stand-in records the job as cancelled, and it produces no further chunk. A job aborted while
 * still waiting in the queue never runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gradioMajor, readRecord, startStandin, type RecordEntry, type StandinHandle } from "@cosyvoice3/testkit";
import { AbortError, CosyVoice, TimeoutError } from "../src/index.ts";
import { calls, sleep, waitForRecord } from "./helpers.ts";

const LONG = "One. Two. Three. Four. Five. Six.";
const CHUNK_DELAY = 1500;

const jobOf = (record: string, sessionHashes: Set<string>): string | undefined =>
  calls(record).find((c) => !sessionHashes.has(String(c["session_hash"])))?.["job"] as string | undefined;
const ofJob = (r: RecordEntry[], job: string, event: string) => r.filter((e) => e["job"] === job && e.event === event);

describe("abort and timeout cancel the job", () => {
  let standin: StandinHandle;
  let cv: CosyVoice;
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice1", chunkDelayMs: CHUNK_DELAY });
    cv = await CosyVoice.connect(standin.url);
  });
  afterAll(async () => {
    await cv?.close();
    await standin?.stop();
  });

  /**
   * Checks the record: the newest job was cancelled after `chunksSeen` chunks and made none after.
   * gradio 6.x lets the UI's generator finish the step it is in (its worker thread runs to the
   * next yield) before the cancel lands, so the record may hold one chunk more than the client
   * saw; on 5.x the cancel stops it at once. Either way nothing comes after the cancel.
   */
  async function expectCancelledAfter(job: string, chunksSeen: number) {
    const rec = await waitForRecord(standin.record, (r) => ofJob(r, job, "cancelled").length > 0);
    expect(ofJob(rec, job, "cancelled")).toHaveLength(1);
    expect(ofJob(rec, job, "done")).toEqual([]);
    // Give a running generator more than one chunk delay to prove nothing more comes.
    await sleep(CHUNK_DELAY + 500);
    const after = readRecord(standin.record);
    const made = ofJob(after, job, "chunk").length;
    expect(made).toBeGreaterThanOrEqual(chunksSeen);
    expect(made).toBeLessThanOrEqual(chunksSeen + (gradioMajor(standin) >= 6 ? 1 : 0));
    expect(ofJob(after, job, "cancelled")[0]?.["chunks"]).toBe(made);
  }

  it("abort mid-job: AbortError within one second; the job produces no further chunk", async () => {
    const before = new Set(calls(standin.record).map((c) => String(c["session_hash"])));
    const ac = new AbortController();
    let abortedAt = 0;
    const err = await cv
      .synthesize(
        { mode: "pretrained", text: LONG, voice: "中文女" },
        {
          signal: ac.signal,
          onProgress: (p) => {
            if (p.stage === "chunk" && p.index === 0) {
              abortedAt = performance.now();
              ac.abort("changed my mind");
            }
          },
        },
      )
      .catch((e: unknown) => e);
    const rejectedAfter = performance.now() - abortedAt;
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).cause).toBe("changed my mind");
    expect(abortedAt).toBeGreaterThan(0);
    expect(rejectedAfter).toBeLessThan(1000);
    const job = jobOf(standin.record, before);
    expect(job).toBeDefined();
    await expectCancelledAfter(job!, 1);
  });

  it("timeout: TimeoutError; the job is cancelled upstream", async () => {
    const before = new Set(calls(standin.record).map((c) => String(c["session_hash"])));
    const err = await cv.synthesize({ mode: "pretrained", text: LONG, voice: "中文男" }, { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).timeoutMs).toBe(2000);
    const job = jobOf(standin.record, before)!;
    const rec = await waitForRecord(standin.record, (r) => ofJob(r, job, "cancelled").length > 0);
    await expectCancelledAfter(job, ofJob(rec, job, "chunk").length);
  });

  it("breaking out of stream() cancels the job", async () => {
    const before = new Set(calls(standin.record).map((c) => String(c["session_hash"])));
    let seen = 0;
    for await (const chunk of cv.stream({ mode: "pretrained", text: LONG, voice: "英文女" })) {
      expect(chunk.data.byteLength).toBeGreaterThan(0);
      seen++;
      break;
    }
    expect(seen).toBe(1);
    await expectCancelledAfter(jobOf(standin.record, before)!, 1);
  });

  it("a job aborted while waiting in the queue never runs", async () => {
    const before = new Set(calls(standin.record).map((c) => String(c["session_hash"])));
    // Long blockers: the UI's two workers stay busy well past the abort, so the cancel reaches a
    // job that is still queued, even on a loaded machine.
    const blockers = [0, 1].map(() => cv.synthesize({ mode: "pretrained", text: LONG, voice: "中文女" }));
    await waitForRecord(standin.record, (r) => r.filter((e) => e.event === "call" && !before.has(String(e["session_hash"]))).length >= 2);
    const ac = new AbortController();
    const queued = cv.synthesize(
      { mode: "pretrained", text: "Never spoken.", voice: "中文女" },
      { signal: ac.signal, onProgress: (p) => p.stage === "queued" && ac.abort() },
    );
    await expect(queued).rejects.toBeInstanceOf(AbortError);
    await Promise.all(blockers);
    await sleep(1000);
    expect(calls(standin.record).map((c) => (c["inputs"] as Record<string, { value: unknown }>)["tts_text"]?.value)).not.toContain(
      "Never spoken.",
    );
  });
});
