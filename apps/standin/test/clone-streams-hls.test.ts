import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, handle_file } from "@gradio/client";
import { closeGradioClient, parseWav, readRecord, startStandin, synthWav, type RecordEntry, type StandinHandle } from "@cosyvoice3/testkit";

const PREFIX = "You are a helpful assistant.<|endofprompt|>";

interface StreamFileData {
  url: string;
  is_stream: boolean;
  meta: { _type: string };
}

interface JobOutcome {
  files: StreamFileData[];
  logs: { level: string; log: string }[];
  stage: string;
}

async function runJob(client: Client, data: unknown[]): Promise<JobOutcome> {
  const job = client.submit("/generate_audio", data);
  const out: JobOutcome = { files: [], logs: [], stage: "" };
  for await (const m of job) {
    if (m.type === "data") out.files.push(...(m.data as StreamFileData[]));
    if (m.type === "log") out.logs.push({ level: m.level, log: m.log });
    if (m.type === "status" && (m.stage === "complete" || m.stage === "error")) {
      out.stage = m.stage;
      break;
    }
  }
  return out;
}

function cloneInputs(text: string, wav: Buffer, name = "voice.wav", seed = 0, speed = 1): unknown[] {
  const file = handle_file(new File([new Uint8Array(wav)], name, { type: "audio/wav" }));
  return [text, "3s极速复刻", "", `${PREFIX}Hello, this is my voice.`, file, null, "", seed, false, speed];
}

function jobEntries(record: RecordEntry[], text: string): RecordEntry[] {
  // the latest call with this text: tests that repeat a text look at the job they just ran
  const call = record.findLast((e) => e.event === "call" && (e["inputs"] as { tts_text: { value: string } }).tts_text.value === text);
  if (!call) throw new Error(`no call for ${text}`);
  return record.filter((e) => e["job"] === call["job"]);
}

// The official UI with a CosyVoice3 model: a 3 s clone of a two-sentence text, as a real
// @gradio/client sees it (streaming FileData pointing at an HLS playlist of AAC segments).
describe("3 s clone over the real @gradio/client", () => {
  let h: StandinHandle;
  let client: Client;
  let gradioMajor = 0;
  beforeAll(async () => {
    h = await startStandin({ variant: "official", model: "cosyvoice3" });
    gradioMajor = parseInt(((await (await fetch(`${h.url}/config`)).json()) as { version: string }).version, 10);
    client = await Client.connect(h.url, { events: ["data", "status", "log"] });
  });
  afterAll(async () => {
    await closeGradioClient(client);
    await h?.stop();
  });

  it("streams a playlist of two AAC segments ending in #EXT-X-ENDLIST, and a 24 kHz WAV playlist-file", async () => {
    const text = "The quick brown fox jumps over the lazy dog. It was not amused at all!";
    const out = await runJob(client, cloneInputs(text, synthWav({ sampleRate: 24_000, seconds: 3, f0: 180 })));
    expect(out.stage).toBe("complete");
    expect(out.logs.filter((l) => l.level === "warning")).toEqual([]);
    const fd = out.files.at(-1);
    if (!fd) throw new Error("no FileData received");
    expect(fd.is_stream).toBe(true);
    expect(fd.meta._type).toBe("gradio.FileData");
    expect(fd.url).toMatch(/\/gradio_api\/stream\/.+\/playlist\.m3u8$/);
    // every update carries the same playlist URL: no audio bytes travel in the SSE
    expect(new Set(out.files.map((f) => f.url)).size).toBe(1);

    const playlist = await (await fetch(fd.url)).text();
    const segments = playlist.split("\n").filter((l) => l.trim().endsWith(".aac"));
    expect(playlist.trimEnd().endsWith("#EXT-X-ENDLIST")).toBe(true);
    const chunks = jobEntries(readRecord(h.record), text).filter((e) => e.event === "chunk");
    expect(chunks).toHaveLength(2);
    if (gradioMajor < 6) {
      // gradio 5: one AAC segment per yield, i.e. per sentence
      expect(segments).toHaveLength(2);
    } else {
      // gradio 6 runs one continuous encoder per stream: segments hold whatever frames were
      // ready (a 1024-sample first one, then a final flush), so only the total duration matches
      const total = playlist.split("\n").filter((l) => l.startsWith("#EXTINF:")).reduce((a, l) => a + parseFloat(l.slice(8)), 0);
      const expected = chunks.reduce((a, c) => a + Number(c["duration_ms"]), 0) / 1000;
      expect(segments.length).toBeGreaterThanOrEqual(2);
      expect(Math.abs(total - expected)).toBeLessThan(0.25);
    }
    const base = fd.url.slice(0, fd.url.lastIndexOf("/") + 1);
    const seg = Buffer.from(await (await fetch(base + (segments[0] ?? "").trim())).arrayBuffer());
    // ADTS sync word 0xFFF
    expect(seg[0]).toBe(0xff);
    expect((seg[1] ?? 0) & 0xf0).toBe(0xf0);

    const wavRes = await fetch(fd.url.replace(/playlist\.m3u8$/, "playlist-file"));
    expect(wavRes.status).toBe(200);
    const wav = parseWav(Buffer.from(await wavRes.arrayBuffer()));
    expect(wav.sampleRate).toBe(24_000);
    expect(wav.durationMs).toBeGreaterThan(1500);
  });

  it("records what the client sent, with Python types, and the prompt audio's rate and duration", async () => {
    const text = "Record me please. Then stop.";
    const out = await runJob(client, cloneInputs(text, synthWav({ sampleRate: 16_000, seconds: 2.5 }), "my-voice.wav", 7));
    expect(out.stage).toBe("complete");
    const entries = jobEntries(readRecord(h.record), text);
    const call = entries[0] as RecordEntry & {
      inputs: Record<string, { value: unknown; type: string }>;
      prompt_wav_upload: { sample_rate: number; duration_ms: number; file_name: string };
    };
    expect(call.event).toBe("call");
    expect(call.inputs["seed"]).toEqual({ value: 7, type: "int" });
    expect(call.inputs["stream"]).toEqual({ value: false, type: "bool" });
    expect(call.inputs["mode_checkbox_group"]).toEqual({ value: "3s极速复刻", type: "str" });
    expect(call.inputs["prompt_wav_record"]).toEqual({ value: null, type: "NoneType" });
    expect(call.inputs["prompt_wav_upload"]?.type).toBe("str");
    expect(call.prompt_wav_upload).toMatchObject({ sample_rate: 16_000, duration_ms: 2500, file_name: "my-voice.wav" });
    expect(entries.filter((e) => e.event === "chunk")).toHaveLength(2);
    expect(entries.at(-1)).toMatchObject({ event: "done", chunks: 2 });
  });

  it("is deterministic for the same inputs and seed, and follows the prompt's pitch, the seed and the speed", async () => {
    const text = "Same words every time.";
    const low = synthWav({ f0: 110 });
    const high = synthWav({ f0: 260 });
    const firstChunk = async (wav: Buffer, seed: number, speed = 1): Promise<{ digest: string; samples: number }> => {
      const out = await runJob(client, cloneInputs(text, wav, "v.wav", seed, speed));
      expect(out.stage).toBe("complete");
      const chunk = jobEntries(readRecord(h.record), text).find((e) => e.event === "chunk");
      if (!chunk) throw new Error("no chunk recorded");
      return { digest: String(chunk["digest"]), samples: Number(chunk["samples"]) };
    };
    const a = await firstChunk(low, 1);
    const again = await firstChunk(low, 1);
    const otherPrompt = await firstChunk(high, 1);
    const otherSeed = await firstChunk(low, 2);
    const faster = await firstChunk(low, 1, 1.5);
    expect(again).toEqual(a);
    expect(otherPrompt.digest).not.toBe(a.digest);
    expect(otherSeed.digest).not.toBe(a.digest);
    expect(faster.samples).toBeLessThan(a.samples * 0.85);
  });
});
