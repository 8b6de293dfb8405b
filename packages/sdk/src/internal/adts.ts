/**
 * The sample rate of an AAC (ADTS) segment, from its first frame header (ISO/IEC 13818-7:
 * 12-bit sync word 0xFFF, then the 4-bit sampling frequency index in the third byte).
 */
const RATES = [96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000, 7_350];

/** @returns hertz, or undefined when `bytes` does not start with an ADTS header */
export function adtsSampleRate(bytes: Uint8Array): number | undefined {
  if (bytes.byteLength < 7 || bytes[0] !== 0xff || ((bytes[1] ?? 0) & 0xf0) !== 0xf0) return undefined;
  return RATES[((bytes[2] ?? 0) >> 2) & 0x0f];
}
