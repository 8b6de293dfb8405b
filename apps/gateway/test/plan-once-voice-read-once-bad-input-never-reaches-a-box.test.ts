// A synthesis is planned once at the door and the plan travels down (issue 16.2): a saved voice's
// prompt audio is read from the store once per request, through the cache and the service, at
// every door (REST whole and streamed, /v1 whole and as a long input of several pieces, a
// narration job of several segments); and input the plan refuses never reaches the box (the
// stand-in's record shows no call for it, and the next good request's call is the only new one).
import { saveVoice } from "./helpers/voices.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readRecord, startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fastapiBackend } from "../src/backends/cosyvoice-fastapi/driver.ts";
import { SynthesisCache } from "../src/service/cache/index.ts";
import { defaultConfig } from "../src/platform/config.ts";
import { DiskAudioStore } from "../src/platform/stores/audio-store.ts";
import { DiskVoiceStore, type NewVoice, type VoiceStore } from "../src/platform/stores/voice-store.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";
import { waitForJob } from "./jobs/stack.ts";

/** The real disk store, counting how often each voice's prompt audio is read. */
class CountingVoices implements VoiceStore {
  readonly audioReads = new Map<string, number>();
  constructor(private readonly inner: DiskVoiceStore) {}
  list = () => this.inner.list();
  get = (id: string) => this.inner.get(id);
  create = (v: NewVoice) => this.inner.create(v);
  delete = (id: string) => this.inner.delete(id);
  readAudio(id: string) {
    this.audioReads.set(id, (this.audioReads.get(id) ?? 0) + 1);
    return this.inner.readAudio(id);
  }
  reads(id: string): number {
    return this.audioReads.get(id) ?? 0;
  }
}

const calls = (record: string) => readRecord(record).filter((e) => e.event === "call");

describe("plan once: the voice is read once per request, bad input never reaches a box", () => {
  let box: StandinHandle;
  let gw: TestGateway;
  let voices: CountingVoices;
  let voice: string;
  let noTranscript: string;
  beforeAll(async () => {
    box = await startStandin({ serve: "fastapi", model: "cosyvoice3", startTimeoutMs: 240_000 });
    const dir = mkdtempSync(join(tmpdir(), "plan-once-"));
    voices = new CountingVoices(await DiskVoiceStore.open(join(dir, "voices")));
    const audio = await DiskAudioStore.open(join(dir, "audio"), { ttlMs: 600_000, maxBytes: 2 ** 28 });
    // With the cache in the path: it used to resolve the voice a second time for its key.
    const cache = new SynthesisCache({ store: await DiskAudioStore.open(join(dir, "cache"), { ttlMs: 600_000, maxBytes: 2 ** 28 }), logger: pino({ level: "silent" }) });
    gw = await startTestGateway({
      backend: fastapiBackend(box.url, { model: "cosyvoice3", timeoutMs: 60_000 }),
      config: { model: "cosyvoice3", maxTextChars: 80, jobs: { ...defaultConfig().jobs, segmentChars: 40 } },
      stores: { voices, audio },
      cache,
    });
    voice = await saveVoice(gw, { name: "Dee", promptText: "I like long walks.", f0: 190 });
    noTranscript = await saveVoice(gw, { name: "Eve", f0: 150 });
  }, 300_000);
  afterAll(async () => {
    await gw?.close();
    await box?.stop();
  });

  it("REST, whole and streamed: one read of the prompt audio each", async () => {
    let before = voices.reads(voice);
    const whole = await gw.api("/synthesize", jsonPost({ text: "A first sentence to say.", voice, seed: 1 }));
    expect(whole.status).toBe(201);
    expect(voices.reads(voice) - before).toBe(1);

    before = voices.reads(voice);
    const streamed = await gw.api("/synthesize", jsonPost({ text: "A second sentence to say.", voice, seed: 1, stream: true, format: "wav" }));
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get("content-type")).toBe("audio/wav");
    expect(voices.reads(voice) - before).toBe(1);
  });

  it("/v1/audio/speech: one read for a one-piece input, and one for a long input of several pieces", async () => {
    let before = voices.reads(voice);
    const one = await gw.api("/v1/audio/speech", jsonPost({ model: "tts-1", voice: { id: voice }, input: "Good morning to you.", response_format: "pcm" }));
    expect(one.status).toBe(200);
    expect(one.bytes.byteLength).toBeGreaterThan(0);
    expect(voices.reads(voice) - before).toBe(1);

    const callsBefore = calls(box.record).length;
    before = voices.reads(voice);
    const long = "The first piece is here and it goes on. The second piece follows it right away. The third piece ends it all.";
    const many = await gw.api("/v1/audio/speech", jsonPost({ model: "tts-1", voice: { id: voice }, input: long, response_format: "wav" }));
    expect(many.status).toBe(200);
    // Several jobs on the box (the input was split), one read of the voice.
    expect(calls(box.record).length - callsBefore).toBeGreaterThanOrEqual(2);
    expect(voices.reads(voice) - before).toBe(1);
  });

  it("a narration job of several segments reads its voice once", async () => {
    const before = voices.reads(voice);
    const callsBefore = calls(box.record).length;
    const res = await gw.api("/jobs", jsonPost({ text: "One short line here. Another short line. And a third line now. The last line ends.", voice, format: "wav" }));
    expect(res.status).toBe(202);
    const total = res.json.segments.total as number;
    expect(total).toBeGreaterThanOrEqual(3);
    const api = async (path: string) => gw.api(path);
    const done = await waitForJob(api, res.json.id, (j) => j.status === "succeeded" || j.status === "failed", 120_000);
    expect(done.status).toBe("succeeded");
    expect(calls(box.record).length - callsBefore).toBe(total);
    // One read to check the job when it was posted, one when its run planned it; none per segment.
    expect(voices.reads(voice) - before).toBe(2);
  });

  it("input the plan refuses is answered before any box is called", async () => {
    const callsBefore = calls(box.record).length;
    // A mode the voice cannot do, instruct outside instruct mode, another owner's/unknown voice, clone without a transcript.
    const refused = [
      await gw.api("/synthesize", jsonPost({ text: "Hello there.", voice, mode: "pretrained" })),
      await gw.api("/synthesize", jsonPost({ text: "Hello there.", voice, mode: "clone", instruct: "Speak slowly." })),
      await gw.api("/synthesize", jsonPost({ text: "Hello there.", voice: "v_AAAAAAAAAAAAAAAAAAAAAA", stream: true })),
      await gw.api("/synthesize", jsonPost({ text: "Hello there.", voice: noTranscript, mode: "clone", stream: true, format: "mp3" })),
      await gw.api("/v1/audio/speech", jsonPost({ model: "tts-1", voice: { id: "v_AAAAAAAAAAAAAAAAAAAAAA" }, input: "Hello there." })),
    ];
    expect(refused.map((r) => r.status)).toEqual([422, 400, 404, 422, 400]);
    expect(calls(box.record).length).toBe(callsBefore);
    // The next good request's call is the only new one in the record.
    const ok = await gw.api("/synthesize", jsonPost({ text: "Now a good one.", voice, seed: 2 }));
    expect(ok.status).toBe(201);
    const after = calls(box.record);
    expect(after.length).toBe(callsBefore + 1);
    expect(after.at(-1)).toMatchObject({ tts_text: "Now a good one." });
  });
});
