// The stand-in converts each streamed chunk to AAC in one ffmpeg run (cvstandin/fast_adts.py)
// instead of gradio's three (ffprobe, decode, encode), and decodes the joined stream at its end
// without gradio's ffprobe. A client must not be able to tell: the bytes and the duration gradio
// reports must be exactly what gradio's own code gives, for the chunks the stand-in really sends
// (speech at both model rates, the validation silence, a chunk of a few samples) and for the WAV
// a stream ends with; whatever is not a 16-bit PCM WAV, or not ADTS, must go to gradio's own code.
// Under a test run's memo (STANDIN_ADTS_CACHE) a chunk already encoded is handed back from disk:
// what is kept must be the encoder's own bytes, and the second conversion must really read it.
import { execFile } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { standinCommand } from "@cosyvoice3/testkit";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const PYTHON = process.env["STANDIN_PYTHON"] ?? join(ROOT, "apps/standin/.venv/bin/python");

interface Check {
  installed: boolean;
  results: { same_bytes: boolean; bytes: number; theirs_s: number; ours_s: number }[];
  shape_8bit: unknown;
  combined: Record<string, boolean | number>;
  memo: Record<string, boolean | number>;
}

describe("streamed chunks: one ffmpeg run, gradio's bytes", () => {
  let out: Check;
  beforeAll(async () => {
    // `app.py --check-fast-adts`, through the run's stand-in fork server when there is one.
    const { command, args } = standinCommand(PYTHON, ["--check-fast-adts"]);
    const { stdout } = await promisify(execFile)(command, args, { cwd: ROOT, maxBuffer: 16 << 20 });
    out = JSON.parse(stdout) as Check;
  });

  it("gives the same AAC bytes and duration as gradio's own conversion, for every kind of chunk the stand-in sends", () => {
    expect(out.installed).toBe(true);
    expect(out.results).toHaveLength(5);
    for (const r of out.results) {
      expect(r.same_bytes).toBe(true);
      expect(r.bytes).toBeGreaterThan(0);
      expect(r.ours_s).toBe(r.theirs_s);
    }
    // The speech chunks are real audio of their length: over a second at either rate.
    expect(out.results[0]!.ours_s).toBeGreaterThan(1);
    expect(out.results[1]!.ours_s).toBeGreaterThan(1);
    expect(out.results[2]!.ours_s).toBe(1);
    expect(out.shape_8bit).toBeNull();
  });

  it("ends a stream with the same WAV as gradio's probe-then-decode, and only skips the probe for a whole ADTS file", () => {
    const { combined } = out;
    expect(combined).toEqual({ same_bytes: true, bytes: expect.any(Number), is_adts: true, probe_agrees: true, truncated_is_adts: false, wav_is_adts: false });
    // Three chunks of 1.58 s, 1 s and three samples at 24 kHz, 16-bit mono: over 2.5 s of samples.
    expect(combined["bytes"]).toBeGreaterThan(2.5 * 24_000 * 2);
  });

  it("keeps each chunk's encode in the run's memo and hands the same chunk back from it, as the encoder's bytes", () => {
    // served_from_memo: the kept file was overwritten with a marker, and the second conversion returned the marker.
    expect(out.memo).toEqual({ kept: 1, first_same: true, kept_same: true, served_from_memo: true });
  });
});
