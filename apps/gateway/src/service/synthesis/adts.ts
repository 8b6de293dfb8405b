/**
 * The sampling rate an AAC ADTS frame header names (ISO/IEC 14496-3, 1.A.2.2: a 12-bit syncword
 * 0xFFF, then `sampling_frequency_index` in bits 2..5 of the third byte). A streamed clip's
 * rate is read from the audio itself: it is what the box that produced it actually made.
 */
const RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350] as const;

/**
 * @example adtsSampleRate(firstChunk.data) // 24000
 * @returns undefined when the bytes do not start with an ADTS header (or name a reserved index)
 */
export function adtsSampleRate(bytes: Uint8Array): number | undefined {
  if (bytes.length < 7 || bytes[0] !== 0xff || ((bytes[1] ?? 0) & 0xf6) !== 0xf0) return undefined;
  return RATES[((bytes[2] ?? 0) >> 2) & 0x0f];
}
