/**
 * The little WAV handling a narration needs: the 16-bit PCM of each segment's clip (walking the
 * RIFF chunks, since a UI's WAV may carry LIST chunks before `data`), and one WAV header over
 * the joined PCM.
 */

/** A clip's PCM and format. */
export interface Pcm {
  /** 16-bit little-endian samples. */
  data: Uint8Array;
  /** @unit hertz */
  sampleRate: number;
  channels: number;
}

/**
 * @throws Error when the bytes are not a 16-bit PCM WAV
 * @example const { data, sampleRate } = pcmOfWav(wavBytes);
 */
export function pcmOfWav(wav: Uint8Array): Pcm {
  const b = Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength);
  if (b.length < 12 || b.toString("ascii", 0, 4) !== "RIFF" || b.toString("ascii", 8, 12) !== "WAVE") throw new Error("not a WAV file");
  let at = 12;
  let fmt: { sampleRate: number; channels: number; bits: number } | undefined;
  while (at + 8 <= b.length) {
    const id = b.toString("ascii", at, at + 4);
    let size = b.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === "fmt ") fmt = { channels: b.readUInt16LE(body + 2), sampleRate: b.readUInt32LE(body + 4), bits: b.readUInt16LE(body + 14) };
    if (id === "data") {
      if (!fmt || fmt.bits !== 16) throw new Error("only 16-bit PCM WAV is supported");
      // A streamed WAV says "unknown" (0xFFFFFFFF): the data runs to the end.
      if (size === 0xffffffff || body + size > b.length) size = b.length - body;
      return { data: wav.subarray(body, body + size - (size % 2)), sampleRate: fmt.sampleRate, channels: fmt.channels };
    }
    at = body + size + (size % 2);
  }
  throw new Error("WAV without a data chunk");
}

/**
 * A 44-byte header and the PCM.
 * @example const wav = wavOf(Buffer.concat(parts), 24_000);
 */
export function wavOf(pcm: Uint8Array, sampleRate: number, channels = 1): Buffer {
  const h = Buffer.alloc(44);
  h.write("RIFF", 0, "ascii");
  h.writeUInt32LE(36 + pcm.byteLength, 4);
  h.write("WAVEfmt ", 8, "ascii");
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write("data", 36, "ascii");
  h.writeUInt32LE(pcm.byteLength, 40);
  return Buffer.concat([h, pcm]);
}

/** @unit milliseconds */
export const pcmDurationMs = (p: Pcm): number => (p.data.byteLength / 2 / p.channels / p.sampleRate) * 1000;
