/**
 * Backpressure: a slow reader of `stream()` holds the SDK back. Against the real stand-in, a job
 * of many sentences finishes on the server long before the reader is through, yet the SDK has
 * fetched at most `highWaterMark` segments more than the reader took (plus the one in its hand):
 * the UI's segments are not read ahead without bound. Without that bound all of them would be
 * in memory as soon as the server had them.
 */
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CosyVoice } from "../src/index.ts";
import { countingFetch, sleep, waitForRecord } from "./helpers.ts";

const SENTENCES = 12;
const text = Array.from({ length: SENTENCES }, (_, i) => `Sentence ${i + 1} is here.`).join(" ");

describe("a slow stream() reader", () => {
  let standin: StandinHandle;
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice1" });
  });
  afterAll(async () => {
    await standin?.stop();
  });

  async function readSlowly(highWaterMark: number | undefined) {
    const counter = countingFetch();
    const cv = await CosyVoice.connect(standin.url, { model: "cosyvoice1", fetch: counter.fetch, timeoutMs: 120_000 });
    const fetched = () => counter.requests.filter((r) => r.path.endsWith(".aac")).length;
    const aheadAtEachRead: number[] = [];
    let serverDoneAt: number | undefined;
    let read = 0;
    try {
      const options = highWaterMark === undefined ? {} : { highWaterMark };
      for await (const chunk of cv.stream({ mode: "pretrained", text, voice: "英文女" }, options)) {
        expect(chunk.index).toBe(read);
        read++;
        aheadAtEachRead.push(fetched() - read);
        if (read === 2) {
          // The server is done with the whole job while the reader has taken two segments.
          await waitForRecord(standin.record, (r) => r.some((e) => e.event === "done" && e["job"] === r.filter((c) => c.event === "call").at(-1)?.["job"]), 30_000);
          serverDoneAt = read;
        }
        await sleep(150);
      }
    } finally {
      await cv.close();
    }
    return { read, fetched: fetched(), aheadAtEachRead, serverDoneAt };
  }

  it("the SDK stays at most highWaterMark + 1 segments ahead (default 1)", async () => {
    const r = await readSlowly(undefined);
    expect(r.serverDoneAt).toBe(2);
    expect(r.read).toBeGreaterThanOrEqual(SENTENCES);
    expect(r.fetched).toBe(r.read);
    expect(Math.max(...r.aheadAtEachRead)).toBeLessThanOrEqual(2);
  });

  it("a larger highWaterMark lets it read further ahead, still bounded", async () => {
    const r = await readSlowly(4);
    expect(r.fetched).toBe(r.read);
    expect(Math.max(...r.aheadAtEachRead)).toBeLessThanOrEqual(5);
    // It does use the room: at some point more than the default bound was buffered.
    expect(Math.max(...r.aheadAtEachRead)).toBeGreaterThan(2);
  });
});
