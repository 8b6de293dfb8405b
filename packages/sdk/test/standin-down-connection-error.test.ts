/**
 * An unreachable UI gives ConnectionError: nothing listening at connect, a UI that stopped after
 * connect (retried, since nothing was accepted), and a UI that dies mid-job (not retried).
 */
import { describe, expect, it } from "vitest";
import { freePort, readRecord, startStandin } from "@cosyvoice3/testkit";
import { ConnectionError, CosyVoice } from "../src/index.ts";
import { countingFetch } from "./helpers.ts";

describe("stand-in down", () => {
  it("nothing listening: connect rejects with ConnectionError after its retries", async () => {
    const port = await freePort();
    const counter = countingFetch();
    const err = await CosyVoice.connect(`http://127.0.0.1:${port}`, { fetch: counter.fetch, maxRetries: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).retryable).toBe(true);
    expect((err as ConnectionError).cause).toBeDefined();
    expect(counter.requests.filter((r) => r.path === "/config")).toHaveLength(2);
  });

  it("stopped after connect: synthesize retries the join, then ConnectionError", async () => {
    const standin = await startStandin({ variant: "official", model: "cosyvoice1" });
    const counter = countingFetch();
    const cv = await CosyVoice.connect(standin.url, { fetch: counter.fetch, maxRetries: 1 });
    await standin.stop();
    counter.requests.length = 0;
    const err = await cv.synthesize({ mode: "pretrained", text: "Hi.", voice: "中文女" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(counter.requests.filter((r) => r.path.endsWith("/queue/join"))).toHaveLength(2);
    expect((err as ConnectionError).accepted).toBe(false);
    await cv.close();
  });

  it("dies mid-job: ConnectionError, not retried (the job had been accepted)", async () => {
    const standin = await startStandin({ variant: "official", model: "cosyvoice1", crashAfterChunks: 1, chunkDelayMs: 2000 });
    try {
      const counter = countingFetch();
      const cv = await CosyVoice.connect(standin.url, { fetch: counter.fetch, maxRetries: 3 });
      const err = await cv
        .synthesize({ mode: "pretrained", text: "One. Two. Three. Four.", voice: "中文女" })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect(readRecord(standin.record).some((e) => e.event === "crash")).toBe(true);
      expect(counter.requests.filter((r) => r.path.endsWith("/queue/join"))).toHaveLength(1);
      // Accepted, so nobody may send it elsewhere: it may have run.
      expect((err as ConnectionError).accepted).toBe(true);
      await cv.close();
    } finally {
      await standin.stop();
    }
  });
});
