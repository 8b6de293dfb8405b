/**
 * Ten concurrent jobs, three aborted mid-job: the other seven complete. Each job has its own
 * Gradio session, so cancelling one never disturbs the others' event streams.
 *
 * The UI admits 2 running + 4 waiting; the other four calls get HTTP 503 at first and come in
 * through the SDK's own retry on queue full (jittered backoff; nothing was accepted, so retrying
 * is safe). `maxRetries` is raised for this test so that every call eventually gets a place.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gradioMajor, startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { AbortError, CosyVoice, type SynthesisResult } from "../src/index.ts";
import { calls, waitForRecord } from "./helpers.ts";

describe("ten concurrent jobs, three aborted", () => {
  let standin: StandinHandle;
  let cv: CosyVoice;
  let refused = 0;
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice1", chunkDelayMs: 300 });
    // Counts the joins the UI refused with 503, to show the retry path was taken.
    const counted: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input instanceof Request ? input.url : input).includes("/queue/join") && res.status === 503) refused++;
      return res;
    };
    cv = await CosyVoice.connect(standin.url, { maxRetries: 40, timeoutMs: 120_000, fetch: counted });
  });
  afterAll(async () => {
    await cv?.close();
    await standin?.stop();
  });

  it("the seven others complete with their full audio", async () => {
    const abortIdx = new Set([1, 4, 7]);
    const voices = ["中文女", "中文男", "英文女", "英文男", "日语男"];
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => {
        const ac = new AbortController();
        return cv.synthesize(
          { mode: "pretrained", text: `Job ${i} first. Job ${i} second. Job ${i} third.`, voice: voices[i % voices.length]!, seed: i },
          {
            signal: ac.signal,
            onProgress: (p) => {
              // Abort mid-job: after the first chunk, while the job is running on the UI.
              if (abortIdx.has(i) && p.stage === "chunk" && p.index === 0) ac.abort();
            },
          },
        );
      }),
    );
    for (const [i, r] of results.entries()) {
      if (abortIdx.has(i)) {
        expect(r.status, `job ${i}`).toBe("rejected");
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(AbortError);
      } else {
        expect(r.status, `job ${i}: ${String((r as PromiseRejectedResult).reason)}`).toBe("fulfilled");
        const res = (r as PromiseFulfilledResult<SynthesisResult>).value;
        expect(res.sampleRate).toBe(22_050);
        expect(res.chunks).toBe(3);
        expect(res.durationMs).toBeGreaterThan(1000);
      }
    }
    // The record: the seven done with three chunks each, the three aborted cancelled, all ten on
    // their own session. gradio 6.x lets a generator finish its current step before a cancel
    // lands (see abort-and-timeout-cancel-the-job): a three-chunk job aborted at its first
    // segment may end "done" there; it still ends, and the caller got its AbortError.
    const rec = await waitForRecord(standin.record, (r) => r.filter((e) => e.event === "cancelled" || e.event === "done").length >= 10);
    const jobOfCall = new Map(calls(standin.record).map((c) => [String((c["inputs"] as Record<string, { value: unknown }>)["tts_text"]?.value), c["job"]]));
    const endOf = (i: number) => rec.find((e) => (e.event === "done" || e.event === "cancelled") && e["job"] === jobOfCall.get(`Job ${i} first. Job ${i} second. Job ${i} third.`));
    for (let i = 0; i < 10; i++) {
      const end = endOf(i);
      if (!abortIdx.has(i)) expect(end, `job ${i}`).toMatchObject({ event: "done", chunks: 3 });
      else if (gradioMajor(standin) < 6) expect(end?.event, `job ${i}`).toBe("cancelled");
      else expect(["cancelled", "done"], `job ${i}`).toContain(end?.event);
    }
    expect(rec.filter((e) => e.event === "done" || e.event === "cancelled")).toHaveLength(10);
    const sessions = new Set(calls(standin.record).map((c) => c["session_hash"]));
    expect(sessions.size).toBe(10);
    // More than 2 running + 4 waiting were asked for at once: some joins were refused and retried.
    expect(refused).toBeGreaterThan(0);
  });
});
