/** Test helpers: WAV bytes made in code, a fetch that counts what it sends, record polling. */
import { readRecord, type RecordEntry } from "@cosyvoice3/testkit";

/** A mono 16-bit PCM WAV of a gliding tone (voice-like pitch range), `seconds` long. */
export function makeWav(opts: { sampleRate?: number; seconds?: number; hz?: number } = {}): Uint8Array<ArrayBuffer> {
  const sampleRate = opts.sampleRate ?? 16_000;
  const n = Math.round(sampleRate * (opts.seconds ?? 3));
  const hz = opts.hz ?? 180;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write("RIFF", 0, "ascii");
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write("WAVE", 8, "ascii");
  buf.write("fmt ", 12, "ascii");
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write("data", 36, "ascii");
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const f = hz * (1 + 0.1 * Math.sin(2 * Math.PI * 3 * t));
    buf.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * f * t)), 44 + i * 2);
  }
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
