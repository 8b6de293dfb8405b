/** A mono 16-bit PCM WAV of a sine tone, for uploads and fake synthesis. */
export function makeWav(opts: { sampleRate?: number; seconds?: number; freq?: number } = {}): Uint8Array {
  const sampleRate = opts.sampleRate ?? 24_000;
  const n = Math.round(sampleRate * (opts.seconds ?? 2));
  const freq = opts.freq ?? 220;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write("RIFF", 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write("WAVE", 8);
  buf.write("fmt ", 12);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write("data", 36);
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) {
    // A gliding tone with a little vibrato, closer to a voice than a flat sine.
    const t = i / sampleRate;
    const v = Math.sin(2 * Math.PI * freq * t + 3 * Math.sin(2 * Math.PI * 5 * t)) * 0.4;
    buf.writeInt16LE(Math.round(v * 32767), 44 + i * 2);
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
