import { pcm16Wav } from "@cosyvoice3/testkit";

/** A mono 16-bit PCM WAV of a sine tone, for uploads and fake synthesis. */
export function makeWav(opts: { sampleRate?: number; seconds?: number; freq?: number } = {}): Uint8Array {
  const freq = opts.freq ?? 220;
  const buf = pcm16Wav({ sampleRate: opts.sampleRate ?? 24_000, seconds: opts.seconds ?? 2 }, (t) =>
    // A gliding tone with a little vibrato, closer to a voice than a flat sine.
    Math.round(Math.sin(2 * Math.PI * freq * t + 3 * Math.sin(2 * Math.PI * 5 * t)) * 0.4 * 32767),
  );
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
