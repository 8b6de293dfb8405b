/**
 * Counts the audio in an AAC (ADTS) byte stream as it arrives, across read boundaries: each
 * frame's header gives its length and sample rate, and holds 1024 samples. Pure; used for the
 * "seconds of audio received" progress of a streamed synthesis.
 */
const RATES = [96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000, 7_350];

/**
 * @example
 * const counter = new AdtsCounter();
 * counter.push(bytes); counter.durationMs // 853.3 after 20 frames at 24 kHz
 */
export class AdtsCounter {
  /** Frames seen so far. */
  frames = 0;
  /** Audio in the frames seen so far. @unit milliseconds */
  durationMs = 0;
  private pending = new Uint8Array(0);

  push(bytes: Uint8Array): void {
    const buf = this.pending.length ? concat(this.pending, bytes) : bytes;
    let at = 0;
    while (at + 7 <= buf.length) {
      if (buf[at] !== 0xff || ((buf[at + 1] ?? 0) & 0xf6) !== 0xf0) {
        at++; // not a frame start: resynchronise
        continue;
      }
      const rate = RATES[((buf[at + 2] ?? 0) >> 2) & 0x0f];
      const length = (((buf[at + 3] ?? 0) & 0x03) << 11) | ((buf[at + 4] ?? 0) << 3) | ((buf[at + 5] ?? 0) >> 5);
      if (!rate || length < 7) {
        at++;
        continue;
      }
      if (at + length > buf.length) break; // the rest of this frame is in a later read
      const blocks = ((buf[at + 6] ?? 0) & 0x03) + 1;
      this.frames += blocks;
      this.durationMs += (blocks * 1024 * 1000) / rate;
      at += length;
    }
    this.pending = buf.slice(at);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
