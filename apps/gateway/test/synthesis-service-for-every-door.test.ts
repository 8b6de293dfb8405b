// The synthesis service as any door calls it in-process (no HTTP): a plan made once, a stored clip, a stream whose
// id is known before its first chunk and which is stored before the loop ends, the owner's
// voices only, and failures as domain errors with a stable code (deadline, caller gone, busy).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { CallerGoneError, CapacityError, DeadlineExceededError, VoiceNotFoundError } from "../src/service/errors.ts";
import { BackendPool } from "../src/backends/pool/index.ts";
import { Slots } from "../src/service/caps/slots.ts";
import { DiskAudioStore } from "../src/platform/stores/audio-store.ts";
import { DiskVoiceStore } from "../src/platform/stores/voice-store.ts";
import { createSynthesisService, type SynthesisInput, type SynthesisOptions, type SynthesisService } from "../src/service/synthesis/service.ts";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { makeWav } from "./helpers/wav.ts";

const logger = pino({ level: "silent" });
const A = { owner: "key:aaaaaaaaaaaaaaaa" };
const B = { owner: "key:bbbbbbbbbbbbbbbb" };

async function setup(opts: { concurrency?: number; queueSize?: number; timeoutMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "service-"));
  const backend = new FakeBackend();
  const pool = BackendPool.single(backend, new Slots({ concurrency: opts.concurrency ?? 2, queueSize: opts.queueSize ?? 2 }), logger);
  const voices = await DiskVoiceStore.open(join(dir, "voices"));
  const audio = await DiskAudioStore.open(join(dir, "audio"), { ttlMs: 60_000, maxBytes: 2 ** 24 });
  const service: SynthesisService = createSynthesisService({ pool, voices, audio, logger, timeoutMs: opts.timeoutMs ?? 10_000 });
  // What a door does: plan once, then hand the plan to the service.
  const synthesis = {
    synthesize: async (input: SynthesisInput, o?: SynthesisOptions) => service.synthesize(await service.plan(input), o),
    stream: async (input: SynthesisInput, o?: SynthesisOptions) => service.stream(await service.plan(input), o),
  };
  const wav = makeWav({ sampleRate: 16_000, seconds: 1.2 });
  const saved = await voices.create({ ...A, name: "A", promptText: "Hello.", audio: { mimeType: "audio/wav", ext: "wav", bytes: wav.byteLength, sampleRate: 16_000, durationMs: 1200 }, data: wav });
  return { backend, pool, audio, synthesis, voiceA: saved.id };
}

describe("synthesis service", () => {
  let s: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    s = await setup();
  });

  it("synthesize stores the clip and describes it", async () => {
    const clip = await s.synthesis.synthesize({ ...A, voice: s.voiceA, text: "Hi." });
    expect(clip).toMatchObject({ owner: A.owner, mimeType: "audio/wav", sampleRate: 22_050, durationMs: 1500, chunks: 2, voice: s.voiceA, mode: "clone", backend: "backend-1" });
    expect(await s.audio.stat(clip.id)).toMatchObject({ id: clip.id, owner: A.owner, bytes: clip.bytes });
    expect(s.backend.calls.at(-1)?.request).toMatchObject({ mode: "clone", promptText: "Hello." });
  });

  it("stream: the id is known before the first chunk, and the clip is stored when the loop ends", async () => {
    const live = await s.synthesis.stream({ ...A, voice: "builtin:中文女", text: "Hi." });
    expect(live.id).toMatch(/^a_[\w-]{22}$/);
    let chunks = 0;
    for await (const chunk of live) {
      expect(chunk.codec).toEqual({ kind: "adts" });
      expect(await s.audio.stat(live.id)).toBeUndefined();
      chunks++;
    }
    expect(chunks).toBe(3);
    expect(await s.audio.stat(live.id)).toMatchObject({ owner: A.owner, mimeType: "audio/aac", durationMs: 1500 });
    expect(await live.clip).toMatchObject({ id: live.id, chunks: 3, mode: "pretrained" });
  });

  it("breaking out of a stream cancels the job and frees the slot; nothing is stored", async () => {
    s.backend.delayMs = 50;
    const live = await s.synthesis.stream({ ...A, voice: "builtin:中文女", text: "Hi." });
    for await (const _chunk of live) break;
    s.backend.delayMs = 0;
    expect(s.backend.calls.at(-1)?.outcome).toBe("aborted");
    expect(s.pool.load).toEqual({ running: 0, waiting: 0 });
    expect(await s.audio.stat(live.id)).toBeUndefined();
    await expect(live.clip).rejects.toBeInstanceOf(CallerGoneError);
  });

  it("another owner's voice is VoiceNotFoundError when planned, and nothing reaches the backend", async () => {
    const before = s.backend.calls.length;
    await expect(s.synthesis.synthesize({ ...B, voice: s.voiceA, text: "Hi." })).rejects.toBeInstanceOf(VoiceNotFoundError);
    await expect(s.synthesis.stream({ ...B, voice: s.voiceA, text: "Hi." })).rejects.toMatchObject({ code: "voice_not_found" });
    expect(s.backend.calls).toHaveLength(before);
  });

  it("the caller's signal ends the job with CallerGoneError (or the domain reason it gave)", async () => {
    s.backend.delayMs = 5_000;
    const gone = new AbortController();
    const running = s.synthesis.synthesize({ ...A, voice: "builtin:中文女", text: "Hi." }, { signal: gone.signal });
    setTimeout(() => gone.abort(), 50);
    await expect(running).rejects.toBeInstanceOf(CallerGoneError);
    s.backend.delayMs = 0;
    expect(s.backend.calls.at(-1)?.outcome).toBe("aborted");
  });
});

describe("synthesis service limits", () => {
  it("the deadline covers the whole call and cancels the backend job", async () => {
    const s = await setup({ timeoutMs: 200 });
    s.backend.delayMs = 5_000;
    const err = await s.synthesis.synthesize({ ...A, voice: "builtin:中文女", text: "Hi." }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect(err).toMatchObject({ code: "deadline_exceeded", timeoutMs: 200 });
    expect(s.backend.calls.at(-1)?.outcome).toBe("aborted");
  });

  it("a full line is CapacityError with a retry hint, and nothing reached the backend", async () => {
    const s = await setup({ concurrency: 1, queueSize: 0 });
    s.backend.delayMs = 300;
    const first = s.synthesis.synthesize({ ...A, voice: "builtin:中文女", text: "Hi." });
    await new Promise((r) => setTimeout(r, 20));
    const err = await s.synthesis.synthesize({ ...A, voice: "builtin:中文女", text: "Hi." }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CapacityError);
    expect((err as CapacityError).retryAfterMs).toBeGreaterThanOrEqual(1000);
    await first;
    expect(s.backend.calls).toHaveLength(1);
  });
});
