/**
 * A full queue gives QueueFullError with a retry hint, and no job is accepted. The queue is
 * filled with raw queue/join calls: 2 running + 4 waiting (max_size=4, concurrency 2), with a
 * long chunk delay so they stay there.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { CosyVoice, QueueFullError } from "../src/index.ts";
import { calls, countingFetch, waitForRecord } from "./helpers.ts";

describe("queue full", () => {
  let standin: StandinHandle;
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice1", firstChunkDelayMs: 30_000, chunkDelayMs: 30_000 });
    // Two first, and only once they run (their calls are recorded) the four that wait: joined
    // back to back, the UI may not have moved the first two out of the queue yet and refuses early.
    const join = async (i: number) => {
      const res = await fetch(`${standin.url}/gradio_api/queue/join`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          data: ["A long job.", "预训练音色", "中文女", "", null, null, "", 0, false, 1],
          fn_index: 1,
          session_hash: `raw-${i}`,
          event_data: null,
          trigger_id: null,
        }),
      });
      expect(res.status).toBe(200);
    };
    for (let i = 0; i < 2; i++) await join(i);
    await waitForRecord(standin.record, (r) => r.filter((e) => e.event === "call").length >= 2);
    for (let i = 2; i < 6; i++) await join(i);
  });
  afterAll(async () => {
    await standin?.stop();
  });

  it("QueueFullError, retryable, with retryAfterMs; no retry when maxRetries is 0", async () => {
    const counter = countingFetch();
    const cv = await CosyVoice.connect(standin.url, { fetch: counter.fetch, maxRetries: 0 });
    const err = await cv.synthesize({ mode: "pretrained", text: "Hi.", voice: "中文女" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueFullError);
    expect((err as QueueFullError).retryable).toBe(true);
    expect((err as QueueFullError).retryAfterMs).toBeGreaterThan(0);
    // Nothing was accepted: a caller (the gateway's pool) may send the job to another UI.
    expect((err as QueueFullError).accepted).toBe(false);
    expect(counter.requests.filter((r) => r.path.endsWith("/queue/join"))).toHaveLength(1);
    expect(calls(standin.record)).toHaveLength(2);
    await cv.close();
  });

  it("with maxRetries it retries the join (nothing was accepted), then gives up with QueueFullError", async () => {
    const counter = countingFetch();
    const cv = await CosyVoice.connect(standin.url, { fetch: counter.fetch, maxRetries: 2 });
    const err = await cv.synthesize({ mode: "pretrained", text: "Hi.", voice: "中文女" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueFullError);
    expect(counter.requests.filter((r) => r.path.endsWith("/queue/join"))).toHaveLength(3);
    await cv.close();
  });
});
