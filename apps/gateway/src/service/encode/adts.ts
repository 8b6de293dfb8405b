/** Reading an ADTS (AAC) frame header: enough to know the rate before any decoder runs. */

/** The sampling_frequency_index table of ISO 14496-3. @unit hertz */
const RATES = [96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000, 7_350];

/**
 * The sample rate of the first ADTS frame in `bytes`, or undefined when they do not start with one.
 * @example adtsSampleRate(chunk.data) // 24000
 */
export function adtsSampleRate(bytes: Uint8Array): number | undefined {
  if (bytes.length < 7 || bytes[0] !== 0xff || ((bytes[1] ?? 0) & 0xf6) !== 0xf0) return undefined;
  return RATES[((bytes[2] ?? 0) >> 2) & 0x0f];
}

/**
 * Samples in a run of ADTS frames (1,024 per raw data block), read from the frame headers: the
 * exact length of what a decoder will output, which the chunks' own durations only estimate.
 * Stops at the first byte that does not start a frame.
 * @example adtsSamples(chunk.data) / 24_000 // seconds of audio in the chunk
 */
export function adtsSamples(bytes: Uint8Array): number {
  let samples = 0;
  for (let i = 0; i + 7 <= bytes.length; ) {
    if (bytes[i] !== 0xff || ((bytes[i + 1] ?? 0) & 0xf6) !== 0xf0) break;
    const length = (((bytes[i + 3] ?? 0) & 0x03) << 11) | ((bytes[i + 4] ?? 0) << 3) | ((bytes[i + 5] ?? 0) >> 5);
    if (length < 7) break;
    samples += 1024 * (((bytes[i + 6] ?? 0) & 0x03) + 1);
    i += length;
  }
  return samples;
}

/**
 * `frames` ADTS frames of silence (AAC-LC, mono) at `sampleRate`: no scale-factor bands, so the
 * same 4 payload bytes at every rate; only the header's rate index differs. Undefined for a
 * rate ADTS cannot say.
 * @example adtsSilence(24_000, 3).byteLength // 33
 */
export function adtsSilence(sampleRate: number, frames: number): Uint8Array | undefined {
  const index = RATES.indexOf(sampleRate);
  if (index < 0) return undefined;
  // profile LC (1), the rate index, mono (channel configuration 1), frame length 11, buffer fullness 0x7ff.
  const frame = [0xff, 0xf1, (1 << 6) | (index << 2), 0x40, 0x01, 0x7f, 0xfc, 0x01, 0x18, 0x20, 0x07];
  const out = new Uint8Array(frame.length * frames);
  for (let i = 0; i < frames; i++) out.set(frame, i * frame.length);
  return out;
}
