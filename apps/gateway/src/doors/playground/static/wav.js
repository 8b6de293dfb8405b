// A recorded AudioBuffer as a 16-bit mono WAV: MediaRecorder gives WebM/Opus, which the gateway
// does not take as prompt audio, so the browser decodes the recording and writes PCM.

/**
 * @param {AudioBuffer} buffer decoded audio (any channel count, the context's sample rate)
 * @param {number} maxSeconds longer recordings are cut (the gateway takes at most 30 s)
 * @returns {ArrayBuffer} a RIFF/WAVE file
 */
export function encodeWav(buffer, maxSeconds = 29.5) {
  const rate = buffer.sampleRate;
  const frames = Math.min(buffer.length, Math.floor(maxSeconds * rate));
  const channels = [];
  for (let c = 0; c < buffer.numberOfChannels; c++) channels.push(buffer.getChannelData(c));
  const out = new ArrayBuffer(44 + frames * 2);
  const view = new DataView(out);
  const text = (at, s) => [...s].forEach((ch, i) => view.setUint8(at + i, ch.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + frames * 2, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, frames * 2, true);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (const ch of channels) sum += ch[i] ?? 0;
    const v = Math.max(-1, Math.min(1, sum / Math.max(1, channels.length)));
    view.setInt16(44 + i * 2, v < 0 ? v * 0x8000 : v * 0x7fff, true);
  }
  return out;
}
