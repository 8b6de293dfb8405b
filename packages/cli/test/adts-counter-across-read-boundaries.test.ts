/**
 * The "seconds of audio received" progress counts ADTS frames as bytes arrive: a frame split
 * over two reads is counted once, when complete; bytes that are not a frame are skipped; each
 * frame is 1024 samples at its header's rate. Checked against frames ffmpeg wrote.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { AdtsCounter } from "../src/adts.ts";

/** One ADTS frame header (no CRC) for 24 kHz mono, `length` bytes long including the header. */
function frame(length: number): Uint8Array {
  const f = new Uint8Array(length);
  f[0] = 0xff;
  f[1] = 0xf1; // MPEG-4, layer 0, no CRC
  f[2] = (1 << 6) | (6 << 2); // AAC LC, 24 kHz (index 6)
  f[3] = (1 << 6) | ((length >> 11) & 0x03); // mono; frame length bits 12..11
  f[4] = (length >> 3) & 0xff;
  f[5] = ((length & 0x07) << 5) | 0x1f;
  f[6] = 0xfc; // one raw data block
  return f;
}

describe("AdtsCounter", () => {
  it("counts frames split at every boundary exactly once", () => {
    const bytes = new Uint8Array([...frame(100), ...frame(57), ...frame(300)]);
    for (let cut = 1; cut < bytes.length; cut += 13) {
      const c = new AdtsCounter();
      c.push(bytes.subarray(0, cut));
      c.push(bytes.subarray(cut));
      expect(c.frames, `cut at ${cut}`).toBe(3);
      expect(c.durationMs).toBeCloseTo((3 * 1024 * 1000) / 24_000, 6);
    }
  });

  it("resynchronises after bytes that are not a frame", () => {
    const c = new AdtsCounter();
    c.push(new Uint8Array([1, 2, 3, 0xff, 0x00, ...frame(40), 9, 9, ...frame(40)]));
    expect(c.frames).toBe(2);
  });

  it("agrees with ffmpeg's own frame count", () => {
    const aac = spawnSync("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=24000:duration=1.5", "-c:a", "aac", "-f", "adts", "-"]);
    expect(aac.status, aac.stderr.toString()).toBe(0);
    const probe = spawnSync("ffprobe", ["-v", "error", "-count_packets", "-show_entries", "stream=nb_read_packets,sample_rate", "-of", "json", "-"], { input: aac.stdout });
    const stream = JSON.parse(probe.stdout.toString()).streams[0] as { nb_read_packets: string; sample_rate: string };
    const c = new AdtsCounter();
    for (let at = 0; at < aac.stdout.length; at += 333) c.push(aac.stdout.subarray(at, at + 333));
    expect(c.frames).toBe(Number(stream.nb_read_packets));
    expect(c.durationMs).toBeCloseTo((Number(stream.nb_read_packets) * 1024 * 1000) / Number(stream.sample_rate), 6);
  });
});
