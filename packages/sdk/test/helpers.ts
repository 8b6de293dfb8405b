/** Test helpers: WAV bytes made in code, a fetch that counts what it sends, record polling. */
import { pcm16Wav, readRecord, type RecordEntry } from "@cosyvoice3/testkit";

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
