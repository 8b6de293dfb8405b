/** Options for {@link synthWav}. */
export interface SynthWavOptions {
  /** @default 24_000 @unit Hz */
  sampleRate?: number;
  /** @default 3 @unit seconds */
  seconds?: number;
  /** Fundamental of the voice-like tone. @default 200 @unit Hz */
  f0?: number;
  /** @default 1 */
  channels?: number;
}

/**
 * A 16-bit PCM WAV of a voice-like harmonic tone (f0 plus two overtones, with a slow
 * syllable-like envelope): a deterministic stand-in for a prompt recording whose pitch the
 * stand-in can estimate.
 *
 * @example
 * const wav = synthWav({ sampleRate: 16_000, seconds: 2, f0: 120 });
 */
export function synthWav(opts: SynthWavOptions = {}): Buffer {
  const f0 = opts.f0 ?? 200;
  return pcm16Wav({ sampleRate: opts.sampleRate ?? 24_000, seconds: opts.seconds ?? 3, channels: opts.channels ?? 1 }, (t) => {
    const envelope = 0.55 + 0.45 * Math.sin(2 * Math.PI * 3 * t);
    const v =
      envelope *
      (0.5 * Math.sin(2 * Math.PI * f0 * t) + 0.25 * Math.sin(4 * Math.PI * f0 * t) + 0.12 * Math.sin(6 * Math.PI * f0 * t));
    return Math.max(-32768, Math.min(32767, Math.round(v * 0.8 * 32767)));
  });
}

/**
 * A 16-bit PCM WAV whose sample at time `t` (seconds) is `sampleAt(t)`, an integer in the int16
 * range, written to every channel: the one WAV writer the test helpers share.
 * @example const beep = pcm16Wav({ sampleRate: 16_000, seconds: 1 }, (t) => Math.round(8000 * Math.sin(2 * Math.PI * 440 * t)));
 */
export function pcm16Wav(format: { sampleRate: number; seconds: number; channels?: number }, sampleAt: (t: number) => number): Buffer {
  const { sampleRate } = format;
  const channels = format.channels ?? 1;
  const frames = Math.round(sampleRate * format.seconds);
  const dataBytes = frames * channels * 2;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write("RIFF", 0, "ascii");
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write("WAVE", 8, "ascii");
  buf.write("fmt ", 12, "ascii");
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * channels * 2, 28);
  buf.writeUInt16LE(channels * 2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write("data", 36, "ascii");
  buf.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < frames; i++) {
    const s = sampleAt(i / sampleRate);
    for (let c = 0; c < channels; c++) buf.writeInt16LE(s, 44 + (i * channels + c) * 2);
  }
  return buf;
}

/** The format fields of a RIFF/WAVE file. */
export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Sample frames in the data chunk. */
  frames: number;
  durationMs: number;
}

/**
 * Reads the `fmt ` and `data` chunks of a WAV file; throws on anything that is not RIFF/WAVE.
 *
 * @example
 * const { sampleRate } = parseWav(Buffer.from(await (await fetch(url)).arrayBuffer()));
 */
export function parseWav(buf: Buffer): WavInfo {
  if (buf.length < 12 || buf.toString("ascii", 0, 4) !== "RIFF" || buf.toString("ascii", 8, 12) !== "WAVE") {
    throw new Error("not a RIFF/WAVE file");
  }
  let off = 12;
  let fmt: { channels: number; sampleRate: number; bitsPerSample: number } | undefined;
  let dataBytes: number | undefined;
  while (off + 8 <= buf.length) {
    const id = buf.toString("ascii", off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === "fmt ") {
      fmt = { channels: buf.readUInt16LE(off + 10), sampleRate: buf.readUInt32LE(off + 12), bitsPerSample: buf.readUInt16LE(off + 22) };
    } else if (id === "data") {
      // streaming writers put 0xffffffff here: the data then runs to the end of the file
      dataBytes = Math.min(size, buf.length - off - 8);
      break;
    }
    off += 8 + size + (size % 2);
  }
  if (!fmt || dataBytes === undefined) throw new Error("WAV without fmt or data chunk");
  const frames = Math.floor(dataBytes / ((fmt.bitsPerSample / 8) * fmt.channels));
  return { ...fmt, frames, durationMs: Math.round((frames * 1000) / fmt.sampleRate) };
}
