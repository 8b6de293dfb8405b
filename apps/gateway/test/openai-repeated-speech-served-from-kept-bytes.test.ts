// A repeated /v1/audio/speech is answered from the encoded bytes the cache kept (issue 19's
// cache hits): the same MP3 again with no box call and no encoder. Pinned by taking the only
// encoder (MAX_ENCODERS=1) with a live stream: a new request is then refused 503, the repeated
// one still answers 200 with the very bytes, raw or as SSE.
import { saveVoice } from "./helpers/voices.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readRecord, startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fastapiBackend } from "../src/backends/cosyvoice-fastapi/driver.ts";
import { DiskAudioStore } from "../src/platform/stores/audio-store.ts";
import { SynthesisCache } from "../src/service/cache/index.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";

const calls = (record: string) => readRecord(record).filter((e) => e.event === "call");

describe("a repeated /v1/audio/speech comes from the kept bytes: no box, no encoder", () => {
  let box: StandinHandle;
  let gw: TestGateway;
  let voice: string;
  beforeAll(async () => {
    box = await startStandin({ serve: "fastapi", model: "cosyvoice3", chunkDelayMs: 400, startTimeoutMs: 240_000 });
    const dir = mkdtempSync(join(tmpdir(), "kept-answers-"));
    const cache = new SynthesisCache({ store: await DiskAudioStore.open(join(dir, "cache"), { ttlMs: 600_000, maxBytes: 2 ** 28 }), logger: pino({ level: "silent" }) });
    gw = await startTestGateway({ backend: fastapiBackend(box.url, { model: "cosyvoice3", timeoutMs: 60_000 }), config: { model: "cosyvoice3", maxEncoders: 1 }, cache });
    voice = await saveVoice(gw, { name: "Kay", promptText: "I like long walks.", f0: 200 });
  }, 300_000);
  afterAll(async () => {
    await gw?.close();
    await box?.stop();
  });

  it("with the only encoder taken, a new request is 503 and the repeated one is the same MP3, with no call on the box", async () => {
    const body = { model: "tts-1", voice: { id: voice }, input: "Kept bytes answer this.", response_format: "mp3" };
    const first = await gw.api("/v1/audio/speech", jsonPost(body));
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("audio/mpeg");
    expect(first.bytes.byteLength).toBeGreaterThan(1_000);

    // A live stream holds the only encoder while the box works (a chunk every 400 ms).
    const live = new AbortController();
    const held = await fetch(`${gw.url}/v1/audio/speech`, { ...jsonPost({ ...body, input: "One long answer. It has many sentences. Each takes a while. And then some more." }), signal: live.signal });
    expect(held.status).toBe(200);
    const reader = (held.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    try {
      const busy = await gw.api("/v1/audio/speech", jsonPost({ ...body, input: "A new request needs an encoder." }));
      expect(busy.status).toBe(503);

      const callsBefore = calls(box.record).length;
      const again = await gw.api("/v1/audio/speech", jsonPost(body));
      expect(again.status).toBe(200);
      expect(again.headers.get("content-type")).toBe("audio/mpeg");
      expect(Buffer.from(again.bytes).equals(Buffer.from(first.bytes))).toBe(true);
      // No clip was made for it, so no id to give.
      expect(again.headers.get("x-audio-id")).toBeNull();

      // The same bytes as OpenAI's SSE: one delta, then done with usage.
      const sse = await gw.api("/v1/audio/speech", jsonPost({ ...body, stream_format: "sse" }));
      expect(sse.status).toBe(200);
      const events = Buffer.from(sse.bytes).toString().split("\n\n").filter((e) => e.startsWith("data: ")).map((e) => JSON.parse(e.slice(6)));
      expect(events.map((e) => e.type)).toEqual(["speech.audio.delta", "speech.audio.done"]);
      expect(Buffer.from(events[0].audio, "base64").equals(Buffer.from(first.bytes))).toBe(true);
      expect(events[1].usage.output_tokens).toBeGreaterThan(0);
      expect(calls(box.record).length).toBe(callsBefore);
    } finally {
      live.abort();
      await reader.cancel().catch(() => undefined);
    }
  });
});
