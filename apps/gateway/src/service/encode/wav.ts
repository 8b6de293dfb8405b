/**
 * WAV around raw PCM (16-bit little-endian mono), for the clips of PCM boxes: the samples are
 * the box's own, bit for bit, behind the canonical 44-byte header.
 */

/** Bytes of the header {@link pcmToWav} writes. */
export const WAV_HEADER_BYTES = 44;

/**
 * @example pcmToWav(pcm, 24_000).subarray(44) // the same bytes as pcm
 */
export function pcmToWav(pcm: Uint8Array, sampleRate: number): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  h.write("RIFF", 0, "ascii");
  h.writeUInt32LE(36 + pcm.byteLength, 4);
  h.write("WAVE", 8, "ascii");
  h.write("fmt ", 12, "ascii");
  h.writeUInt32LE(16, 16); // PCM fmt chunk size
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28); // byte rate
  h.writeUInt16LE(2, 32); // block align
  h.writeUInt16LE(16, 34); // bits per sample
  h.write("data", 36, "ascii");
  h.writeUInt32LE(pcm.byteLength, 40);
  return Buffer.concat([h, pcm]);
}
