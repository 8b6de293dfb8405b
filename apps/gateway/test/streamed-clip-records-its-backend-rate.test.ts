// A streamed clip stored for /audio/:id records the sample rate of the backend that produced
// it, not of whichever box happened to be ready first. Two real stand-ins with different
// models (CosyVoice1: 22.05 kHz, CosyVoice3: 24 kHz) take turns with the streams.
import { startStandin, synthWav, type StandinHandle } from "@cosyvoice3/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectingBackend } from "../src/backends/gradio/driver.ts";
import { BackendPool } from "../src/backends/pool/index.ts";
import { Slots } from "../src/service/caps/slots.ts";
import { isAdts } from "./helpers/clip.ts";
import { SDK_READY, SDK_SKIP_REASON } from "./helpers/full-stack.ts";
import { jsonPost, startTestGateway, voiceForm, type TestGateway } from "./helpers/harness.ts";
import { synthCalls, until } from "./helpers/pool-stack.ts";

/** The sampling rate an ADTS frame header names (ISO 14496-3, sampling_frequency_index). */
const ADTS_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
const adtsRate = (b: Uint8Array): number | undefined => ADTS_RATES[((b[2] ?? 0) >> 2) & 0x0f];

describe.skipIf(!SDK_READY)(`streamed clips in a pool of two models${SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`}`, () => {
  let cv1: StandinHandle;
  let cv3: StandinHandle;
  let pool: BackendPool;
  let gw: TestGateway;
  let voice: string;

  beforeAll(async () => {
    [cv1, cv3] = await Promise.all([
      startStandin({ variant: "official", model: "cosyvoice1" }),
      startStandin({ variant: "official", model: "cosyvoice3" }),
    ]);
    const logger = pino({ level: "silent" });
    const member = (name: string, url: string, model: "cosyvoice1" | "cosyvoice3") => ({
      name,
      url,
      slots: new Slots({ concurrency: 2, queueSize: 2 }),
      backend: connectingBackend(url, { client: { model, maxRetries: 0 } }),
    });
    pool = new BackendPool({ logger, healthCheckIntervalMs: 60_000, members: [member("backend-1", cv1.url, "cosyvoice1"), member("backend-2", cv3.url, "cosyvoice3")] });
    pool.start();
    await until(() => pool.status().every((b) => b.state === "up"), "both backends to be checked up");
    gw = await startTestGateway({ backend: pool });
    const made = await gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav(), name: "Both", promptText: "Hello." }) });
    expect(made.status).toBe(201);
    voice = made.json.id;
  });
  afterAll(async () => {
    await gw?.close();
    await pool?.close();
    await Promise.all([cv1?.stop(), cv3?.stop()]);
  });

  it("each stored clip carries the rate of the box that streamed it, and its duration", async () => {
    const seen = new Map<number, number>();
    for (let i = 0; i < 4; i++) {
      const before = [synthCalls(cv1.record), synthCalls(cv3.record)];
      const res = await gw.api("/synthesize", jsonPost({ text: `Clip ${i}. Two sentences.`, voice, stream: true }));
      expect(res.status).toBe(200);
      expect(isAdts(res.bytes)).toBe(true);
      const producedBy = synthCalls(cv1.record) > before[0]! ? 22_050 : synthCalls(cv3.record) > before[1]! ? 24_000 : undefined;
      expect(adtsRate(res.bytes)).toBe(producedBy);
      const meta = await gw.audio.stat(res.headers.get("x-audio-id")!);
      expect(meta).toMatchObject({ mimeType: "audio/aac", sampleRate: producedBy, bytes: res.bytes.length });
      expect(meta?.durationMs).toBeGreaterThan(200);
      seen.set(producedBy!, (seen.get(producedBy!) ?? 0) + 1);
    }
    // The boxes took turns, so both rates were recorded.
    expect([...seen.keys()].sort()).toEqual([22_050, 24_000]);
  });
});
