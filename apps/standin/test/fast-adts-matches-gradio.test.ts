// The stand-in converts each streamed chunk to AAC in one ffmpeg run (cvstandin/fast_adts.py)
// instead of gradio's three (ffprobe, decode, encode). A client must not be able to tell: the
// bytes and the duration gradio reports must be exactly what gradio's own code gives, for the
// chunks the stand-in really sends (speech at both model rates, the validation silence, a chunk
// of a few samples), and whatever is not a 16-bit PCM WAV must go to gradio's own code.
import { execFileSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const STANDIN = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PYTHON = process.env["STANDIN_PYTHON"] ?? join(STANDIN, ".venv/bin/python");

// Writes each chunk the way gradio does for a streamed (sample_rate, float32 array) output
// (processing_utils.audio_to_file, 16-bit WAV), then compares the two conversions.
const SCRIPT = `
import io, json, os, sys, tempfile, warnings, wave
warnings.simplefilter("ignore")
sys.path.insert(0, ${JSON.stringify(STANDIN)})
import numpy as np
from gradio import processing_utils
from cvstandin import fast_adts, speech

def gradio_wav(rate, samples):
    path = os.path.join(tempfile.mkdtemp(), "audio.wav")
    processing_utils.audio_to_file(rate, samples, path, format="wav")
    return open(path, "rb").read()

voice = speech.Voice()
chunks = [
    gradio_wav(24000, speech.render("The weather is fine today.", voice, 24000)),
    gradio_wav(22050, speech.render("Please hold the line.", voice, 22050)),
    gradio_wav(24000, np.zeros(24000) + 1e-9),
    gradio_wav(24000, np.array([0.5, -0.25, 0.125], dtype=np.float32)),
]
# Not 16-bit: 8-bit PCM goes to gradio's own conversion.
b = io.BytesIO(); w = wave.open(b, "wb"); w.setnchannels(1); w.setsampwidth(1); w.setframerate(16000)
w.writeframes(bytes(range(256)) * 40); w.close()
chunks.append(b.getvalue())
print(json.dumps({"installed": fast_adts.install(), "results": fast_adts.check(chunks), "shape_8bit": fast_adts._pcm16_frames(chunks[-1])}))
`;

describe("streamed chunks: one ffmpeg run, gradio's bytes", () => {
  it("gives the same AAC bytes and duration as gradio's own conversion, for every kind of chunk the stand-in sends", () => {
    const out = JSON.parse(execFileSync(PYTHON, ["-c", SCRIPT], { encoding: "utf8", maxBuffer: 16 << 20 })) as {
      installed: boolean;
      results: { same_bytes: boolean; bytes: number; theirs_s: number; ours_s: number }[];
      shape_8bit: unknown;
    };
    expect(out.installed).toBe(true);
    expect(out.results).toHaveLength(5);
    for (const r of out.results) {
      expect(r.same_bytes).toBe(true);
      expect(r.bytes).toBeGreaterThan(0);
      expect(r.ours_s).toBe(r.theirs_s);
    }
    // The speech chunks are real audio of their length: 1.5 s or more at either rate.
    expect(out.results[0]!.ours_s).toBeGreaterThan(1);
    expect(out.results[1]!.ours_s).toBeGreaterThan(1);
    expect(out.results[2]!.ours_s).toBe(1);
    expect(out.shape_8bit).toBeNull();
  });
});
