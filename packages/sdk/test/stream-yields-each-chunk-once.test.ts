/**
 * stream() yields the first chunk before the job completes (with a per-chunk delay set on the
 * stand-in), and every chunk exactly once, in order, as AAC (ADTS) segments.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gradioMajor, readRecord, startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { CosyVoice, type AudioChunk, type Progress } from "../src/index.ts";
import { calls, expectSegmentsOf, makeWav } from "./helpers.ts";

const TEXT = "First sentence here. Second one now. Third comes next. And the fourth.";

describe("stream()", () => {
  let standin: StandinHandle;
  let cv: CosyVoice;
  beforeAll(async () => {
    standin = await startStandin({ variant: "cv3-en", model: "cosyvoice3", chunkDelayMs: 700 });
    cv = await CosyVoice.connect(standin.url);
  });
  afterAll(async () => {
    await cv?.close();
    await standin?.stop();
  });

  it("the first chunk arrives while the job is still running; each chunk once, in order", async () => {
    const chunks: AudioChunk[] = [];
    let jobDoneAtFirstChunk: boolean | undefined;
    let job: unknown;
    for await (const chunk of cv.stream({ mode: "clone", text: TEXT, promptAudio: makeWav(), promptText: "Prompt." })) {
      if (chunks.length === 0) {
        job = calls(standin.record).at(-1)?.["job"];
        jobDoneAtFirstChunk = readRecord(standin.record).some((e) => e["job"] === job && e.event === "done");
      }
      chunks.push(chunk);
    }
    expect(job).toBeDefined();
    expect(jobDoneAtFirstChunk).toBe(false);
    const rec = readRecord(standin.record);
    const produced = rec.filter((e) => e["job"] === job && e.event === "chunk");
    expect(produced).toHaveLength(4);
    expectSegmentsOf(standin, chunks, 4);
    for (const [i, c] of chunks.entries()) {
      expect(c.mimeType).toBe("audio/aac");
      // ADTS frames start with the 12-bit sync word 0xFFF.
      expect(c.data[0]).toBe(0xff);
      expect((c.data[1] ?? 0) & 0xf0).toBe(0xf0);
      // gradio 5.x: each segment's duration matches the chunk the stand-in produced (AAC framing
      // adds a little). gradio 6.x re-cuts the audio: only the whole matches (below).
      if (gradioMajor(standin) < 6) expect(Math.abs(c.durationMs - Number(produced[i]?.["duration_ms"]))).toBeLessThan(150);
    }
    const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(Math.abs(total(chunks.map((c) => c.durationMs)) - total(produced.map((e) => Number(e["duration_ms"]))))).toBeLessThan(250);
    expect(new Set(chunks.map((c) => Buffer.from(c.data).toString("base64"))).size).toBe(chunks.length);
  });

  it("synthesize reports queued, started, then each chunk once", async () => {
    const progress: Progress[] = [];
    const res = await cv.synthesize(
      { mode: "crossLingual", text: TEXT, promptAudio: makeWav() },
      { onProgress: (p) => progress.push(p) },
    );
    expect(progress[0]).toMatchObject({ stage: "queued", position: 0 });
    expect(progress.filter((p) => p.stage === "started")).toHaveLength(1);
    const chunkEvents = progress.filter((p): p is Extract<Progress, { stage: "chunk" }> => p.stage === "chunk");
    // One progress event per HLS segment; `chunks` counts the model's chunks on every gradio.
    expectSegmentsOf(standin, chunkEvents, 4);
    expect(res.chunks).toBe(4);
    const stages = progress.map((p) => p.stage);
    expect(stages.indexOf("started")).toBeLessThan(stages.indexOf("chunk"));
  });
});
