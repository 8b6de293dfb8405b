/** Test helpers: WAV bytes made in code, a fetch that counts what it sends, record polling. */
import { expect } from "vitest";
import { gradioMajor, pcm16Wav, readRecord, type RecordEntry, type StandinHandle } from "@cosyvoice3/testkit";

/** A mono 16-bit PCM WAV of a gliding tone (voice-like pitch range), `seconds` long. */
export function makeWav(opts: { sampleRate?: number; seconds?: number; hz?: number } = {}): Uint8Array<ArrayBuffer> {
  const hz = opts.hz ?? 180;
  const buf = pcm16Wav({ sampleRate: opts.sampleRate ?? 16_000, seconds: opts.seconds ?? 3 }, (t) => {
    const f = hz * (1 + 0.1 * Math.sin(2 * Math.PI * 3 * t));
    return Math.round(8000 * Math.sin(2 * Math.PI * f * t));
  });
  return new Uint8Array(buf.buffer as ArrayBuffer, buf.byteOffset, buf.byteLength);
}

/** A fetch that records every request's method and URL path. */
export function countingFetch(): { fetch: typeof fetch; requests: { method: string; path: string }[] } {
  const requests: { method: string; path: string }[] = [];
  const f: typeof fetch = (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    requests.push({ method: init?.method ?? "GET", path: new URL(url).pathname });
    return fetch(input, init);
  };
  return { fetch: f, requests };
}

/** `generate_audio` calls in the record. */
export function calls(record: string): RecordEntry[] {
  return readRecord(record).filter((e) => e.event === "call" && e["fn"] === "generate_audio");
}

/** The `inputs` of a call: `{name: {value, type}}`. */
export function inputsOf(call: RecordEntry): Record<string, { value: unknown; type: string }> {
  return call["inputs"] as Record<string, { value: unknown; type: string }>;
}

/** Polls the record until `pred` holds (or gives up after `ms`, returning the last read). */
export async function waitForRecord(record: string, pred: (r: RecordEntry[]) => boolean, ms = 10_000): Promise<RecordEntry[]> {
  const end = Date.now() + ms;
  for (;;) {
    const r = readRecord(record);
    if (pred(r) || Date.now() > end) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Expects `chunks` to be the HLS segments of a stream of `modelChunks` model chunks, indexed
 * 0, 1, 2, ...: one per model chunk on gradio 5.x. gradio 6.x runs one encoder per stream (a
 * first segment of one AAC frame, a flush at the end) and cuts where its timing falls: seen
 * between 2 and `modelChunks + 1` segments for the same job, so only the range is pinned there.
 */
export function expectSegmentsOf(standin: Pick<StandinHandle, "gradioVersion">, chunks: { index: number }[], modelChunks: number): void {
  expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
  if (gradioMajor(standin) < 6) expect(chunks).toHaveLength(modelChunks);
  else {
    expect(chunks.length).toBeGreaterThanOrEqual(Math.min(2, modelChunks));
    expect(chunks.length).toBeLessThanOrEqual(modelChunks + 1);
  }
}
