/**
 * The little WAV handling a narration needs: the 16-bit PCM of each segment's clip (walking the
 * RIFF chunks, since a UI's WAV may carry LIST chunks before `data`); the joined PCM gets its
 * header from `pcmToWav` (service/encode/wav.ts).
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

/** @unit milliseconds */
export const pcmDurationMs = (p: Pcm): number => (p.data.byteLength / 2 / p.channels / p.sampleRate) * 1000;
