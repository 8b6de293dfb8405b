// Home Assistant asks /v1/audio/speech for the same short phrases again and again, streamed, and
// a long answer is cut into several jobs under the one request. A repeated piece is a cache hit:
// the job made for it never runs. Each job must still let go of the gateway's shutdown signal
// and of the request's signal, or the 11th such piece makes Node print
// "MaxListenersExceededWarning: 11 abort listeners added to [AbortSignal]" (the leak the issue
// saw), and every hit keeps a timer and a closure alive until the job's deadline.
import { getEventListeners } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStandin, synthWav, type StandinHandle } from "@cosyvoice3/testkit";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectingBackend, type SynthesisBackend } from "../src/backends/backend.ts";
import { SynthesisCache } from "../src/service/cache/index.ts";
import { DiskAudioStore } from "../src/platform/stores/audio-store.ts";
import { jsonPost, startTestGateway, voiceForm, type TestGateway } from "./helpers/harness.ts";

// The same sentence 14 times with a 40-character job limit: 14 jobs, 13 of them cache hits.
const REPEATED = Array.from({ length: 14 }, () => "The kitchen light is on.").join(" ");
// Four different sentences: four jobs that all run.
const DISTINCT = Array.from({ length: 4 }, (_, i) => `Sentence number ${i + 1} is short.`).join(" ");

async function settled(signal: AbortSignal): Promise<number> {
  // A finished response may still be unwinding its generators for a tick or two.
  for (let i = 0; i < 50 && getEventListeners(signal, "abort").length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  return getEventListeners(signal, "abort").length;
}

describe("openai: long and repeated streamed inputs leave no abort listeners behind", () => {
  let standin: StandinHandle;
  let backend: SynthesisBackend;
  let gw: TestGateway;
  const shutdown = new AbortController();
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  beforeAll(async () => {
    standin = await startStandin({ variant: "cv3-en", model: "cosyvoice3" });
    backend = connectingBackend(standin.url, { client: { model: "cosyvoice3", maxRetries: 0 } });
    // As server.ts builds it: the synthesis cache on, and a shutdown signal every job listens to.
    const store = await DiskAudioStore.open(join(mkdtempSync(join(tmpdir(), "cache-")), "cache"), { ttlMs: 60_000, maxBytes: 50_000_000 });
    const cache = new SynthesisCache({ store, logger: pino({ level: "silent" }) });
    gw = await startTestGateway({ backend, cache, shutdown: shutdown.signal, config: { maxTextChars: 40, voiceAliases: { nova: "Nia" } } });
    await gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav({ seconds: 3 }), name: "Nia", promptText: "I like long walks." }) });
    process.on("warning", onWarning);
  });
  afterEach(() => {
    warnings.length = 0;
  });
  afterAll(async () => {
    process.off("warning", onWarning);
    await gw?.close();
    await backend?.close();
    await standin?.stop();
  });

  const cases = [
    { name: "14 repeated pieces (13 cache hits), streamed audio", input: REPEATED, stream_format: "audio", minBytes: 10_000 },
    { name: "the same 14 pieces again (14 cache hits), streamed as SSE", input: REPEATED, stream_format: "sse", minBytes: 10_000 },
    { name: "4 distinct pieces (4 jobs that run), streamed as SSE", input: DISTINCT, stream_format: "sse", minBytes: 3_000 },
  ] as const;
  for (const c of cases) {
    it(`${c.name}: all audio arrives, the shutdown signal has no listener left, no warning`, async () => {
      const res = await fetch(`${gw.url}/v1/audio/speech`, jsonPost({ model: "tts-1", voice: "nova", input: c.input, response_format: "mp3", stream_format: c.stream_format }));
      expect(res.status).toBe(200);
      const body = new Uint8Array(await res.arrayBuffer());
      expect(body.byteLength).toBeGreaterThan(c.minBytes);
      expect(await settled(shutdown.signal)).toBe(0);
      await new Promise((r) => setImmediate(r));
      expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    });
  }
});
