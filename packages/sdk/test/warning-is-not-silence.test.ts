/**
 * A gr.Warning is an error, not silence: the UI warns and yields one second of silence (the
 * official UI then carries on, cv3-en returns). The SDK rejects with UpstreamWarningError,
 * cancels the job, and never hands the silence out, neither from synthesize nor from stream.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRecord, startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { CosyVoice, UpstreamWarningError } from "../src/index.ts";
import { makeWav, waitForRecord } from "./helpers.ts";

const prompt = makeWav();

for (const variant of ["official", "cv3-en"] as const) {
  describe(`${variant} UI with --force-warning`, () => {
    let standin: StandinHandle;
    let cv: CosyVoice;
    beforeAll(async () => {
      // The delay keeps the official UI's carry-on inference behind our cancel.
      standin = await startStandin({ variant, model: "cosyvoice3", forceWarning: true, firstChunkDelayMs: 1500 });
      cv = await CosyVoice.connect(standin.url);
    });
    afterAll(async () => {
      await cv?.close();
      await standin?.stop();
    });

    it("synthesize rejects with UpstreamWarningError carrying the UI's text", async () => {
      const err = await cv
        .synthesize({ mode: "clone", text: "Hello there.", promptAudio: prompt, promptText: "Prompt." })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamWarningError);
      expect((err as UpstreamWarningError).warning.length).toBeGreaterThan(0);
      expect((err as UpstreamWarningError).retryable).toBe(false);
      const job = readRecord(standin.record).find((e) => e.event === "warning")?.["job"];
      expect(job).toBeDefined();
      expect((err as UpstreamWarningError).warning).toBe(readRecord(standin.record).find((e) => e.event === "warning")?.["message"]);
      if (variant === "official") {
        // The official UI would carry on into the model: the cancel stops it before any real chunk.
        const rec = await waitForRecord(standin.record, (r) => r.some((e) => e["job"] === job && e.event === "cancelled"));
        expect(rec.filter((e) => e["job"] === job && e.event === "chunk" && e["silent"] === false)).toEqual([]);
      }
    });

    it("stream yields nothing, not even the silence, and rejects", async () => {
      const got: unknown[] = [];
      const err = await (async () => {
        for await (const c of cv.stream({ mode: "crossLingual", text: "Hello there.", promptAudio: prompt })) got.push(c);
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamWarningError);
      expect(got).toEqual([]);
    });
  });
}
