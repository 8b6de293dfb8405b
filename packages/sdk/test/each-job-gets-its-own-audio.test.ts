/**
 * Each job gets its own audio. gradio 5.x names a stream run by `id(iterator)` and keys streams
 * by session, then run; Python reuses ids, so two jobs of one session can share a stream: the
 * later job's playlist then carries the earlier job's segments and `playlist-file` returns the
 * earlier job's cached WAV. The SDK runs every job on its own session, so this cannot happen.
 * The bare-client half shows the trap is real (and that the SDK half would catch it).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBuffer } from "music-metadata";
import { Client } from "@gradio/client";
import { gradioMajor, readRecord, startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { CosyVoice } from "../src/index.ts";

/** Texts of clearly different lengths, so a wrong clip shows in its duration. */
const texts = Array.from({ length: 6 }, (_, i) => `${"Word ".repeat(2 + 3 * i)}end.`);

describe("each job gets its own audio", () => {
  let standin: StandinHandle;
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice1" });
  });
  afterAll(async () => {
    await standin?.stop();
  });

  /** Sum of the chunk durations the stand-in produced for its latest job. */
  function producedMs(): number {
    const rec = readRecord(standin.record);
    const job = rec.filter((e) => e.event === "call").at(-1)?.["job"];
    return rec.filter((e) => e.event === "chunk" && e["job"] === job).reduce((a, e) => a + Number(e["duration_ms"]), 0);
  }

  it("SDK: every clip's duration is its own job's", async () => {
    const cv = await CosyVoice.connect(standin.url);
    for (const text of texts) {
      const res = await cv.synthesize({ mode: "pretrained", text, voice: "英文男" });
      expect(Math.abs(res.durationMs - producedMs()), text).toBeLessThan(150);
      expect(res.chunks).toBe(1);
    }
    await cv.close();
  });

  it("bare client on one session: some clips are an earlier job's (the trap the SDK avoids)", async () => {
    const bare = await Client.connect(standin.url);
    let wrong = 0;
    for (const text of texts) {
      const res = await bare.predict("/generate_audio", [text, "预训练音色", "英文男", "", null, null, "", 0, false, 1]);
      const url = (res.data as { url: string }[])[0]!.url.replace(/playlist\.m3u8$/, "playlist-file");
      const wav = new Uint8Array(await (await fetch(url)).arrayBuffer());
      const ms = ((await parseBuffer(wav, { mimeType: "audio/wav" }, { duration: true })).format.duration ?? 0) * 1000;
      if (Math.abs(ms - producedMs()) >= 150) wrong++;
    }
    bare.close();
    // The trap is gradio 5.x's (seen on 5.4.0 and 5.50.0: stream runs keyed by id(iterator));
    // gradio 6.x keys them apart.
    if (gradioMajor(standin) < 6) expect(wrong).toBeGreaterThan(0);
    else expect(wrong).toBe(0);
  });
});
