/**
 * After `stream()` the client knows the output sample rate (issue 8): `cv.backend.sampleRate`
 * and each chunk's `sampleRate` come from the segments' ADTS headers, and ffprobe agrees.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CosyVoice, type AudioChunk } from "../src/index.ts";
import { makeWav } from "./helpers.ts";

function ffprobeRate(bytes: Uint8Array): number {
  const file = join(mkdtempSync(join(tmpdir(), "seg-")), "s.aac");
  writeFileSync(file, bytes);
  const out = execFileSync("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate", "-of", "csv=p=0", file], { encoding: "utf8" });
  return Number(out.trim());
}

describe.each([
  ["cosyvoice1", 22_050],
  ["cosyvoice3", 24_000],
] as const)("stream() on a %s UI", (model, rate) => {
  let standin: StandinHandle;
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model });
  });
  afterAll(async () => {
    await standin?.stop();
  });

  it(`sets backend.sampleRate to ${rate} Hz and tags each chunk with it`, async () => {
    const cv = await CosyVoice.connect(standin.url, { model });
    try {
      expect(cv.backend.sampleRate).toBeUndefined();
      const chunks: AudioChunk[] = [];
      const request =
        model === "cosyvoice1"
          ? ({ mode: "pretrained", text: "One. Two.", voice: "英文女" } as const)
          : ({ mode: "crossLingual", text: "One. Two.", promptAudio: makeWav({ seconds: 2 }) } as const);
      for await (const c of cv.stream(request)) chunks.push(c);
      expect(cv.backend.sampleRate).toBe(rate);
      expect(chunks.every((c) => c.sampleRate === rate)).toBe(true);
      expect(ffprobeRate(chunks.at(-1)!.data)).toBe(rate);
    } finally {
      await cv.close();
    }
  });
});
