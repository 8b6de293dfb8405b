/**
 * The stand-in's instructions are heard, not ignored: the same text, prompt and seed through the
 * cv3-en UI's Instruct mode (what the gateway sends for typed controls and free text) gives
 * measurably different audio per control, and the `--record` file says what was applied.
 * Measured on the audio a client gets (gradio's `playlist-file`, decoded with ffmpeg):
 * duration for pace, median pitch for emotion and volume, a different digest for a dialect.
 * Amplitude itself is checked in the record only: gradio peak-normalises every streamed chunk.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, handle_file } from "@gradio/client";
import { readRecord, startStandin, synthWav, type RecordEntry, type StandinHandle } from "@cosyvoice3/testkit";
import { ends, sendForm, sha256 } from "./http-helpers.ts";

const TEXT = "The quick brown fox jumps over the lazy dog. It was not amused at all.";
const SYSTEM = "You are a helpful assistant. ";
const END = "<|endofprompt|>";
/** The sentences the SDK builds for typed controls (packages/sdk/src/schemas.ts). */
const TYPED = {
  slow: `${SYSTEM}请用尽可能慢地语速说一句话。${END}`,
  fast: `${SYSTEM}请用尽可能快地语速说一句话。${END}`,
  happy: `${SYSTEM}请非常开心地说一句话。${END}`,
  sad: `${SYSTEM}请非常伤心地说一句话。${END}`,
  loud: `${SYSTEM}Please say a sentence as loudly as possible.${END}`,
  soft: `${SYSTEM}Please say a sentence in a very soft voice.${END}`,
  sichuan: `${SYSTEM}请用四川话表达。${END}`,
};

interface Heard {
  seconds: number;
  f0: number;
  digest: string;
  applied: { controls: Record<string, string>; espeak: { voice: string; rate: number; pitch: number; amplitude: number }; unrecognised?: string };
}

/** Median fundamental frequency of the voiced 40 ms frames (autocorrelation, 60..400 Hz). */
function medianF0(x: Float32Array, rate: number): number {
  const frame = Math.round(rate * 0.04);
  const [lo, hi] = [Math.floor(rate / 400), Math.ceil(rate / 60)];
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  const f0s: number[] = [];
  for (let start = 0; start + frame + hi < x.length; start += frame >> 1) {
    let energy = 0;
    for (let i = 0; i < frame; i++) energy += x[start + i]! ** 2;
    if (Math.sqrt(energy / frame) < 0.05 * peak) continue;
    const ac = (lag: number) => {
      let s = 0;
      for (let i = 0; i < frame; i++) s += x[start + i]! * x[start + i + lag]!;
      return s;
    };
    const zero = ac(0);
    let best = lo;
    let bestValue = -Infinity;
    for (let lag = lo; lag <= hi; lag++) {
      const v = ac(lag);
      if (v > bestValue) [best, bestValue] = [lag, v];
    }
    if (zero > 0 && bestValue / zero > 0.3) f0s.push(rate / best);
  }
  f0s.sort((a, b) => a - b);
  return f0s[f0s.length >> 1] ?? 0;
}

describe("instructions through the cv3-en UI's Instruct mode", () => {
  let h: StandinHandle;
  const heard = new Map<string, Heard>();
  const prompt = synthWav({ sampleRate: 24_000, seconds: 3, f0: 140 });

  /**
   * One Instruct job with the same text, prompt and seed; what a client hears and the record.
   * One at a time: the UI seeds numpy's global generator per job, so jobs side by side would
   * not be repeatable (and gradio 5.4 cut a concurrent playlist-file short here).
   */
  async function say(key: string, instruct: string, mode = "Instruct"): Promise<Heard> {
    const file = handle_file(new File([new Uint8Array(prompt)], "voice.wav", { type: "audio/wav" }));
    // One session per job: gradio 5.4 can hand a session another of its jobs' streams.
    const client = await Client.connect(h.url, { events: ["data", "status"] });
    const job = client.submit("/generate_audio", [TEXT, mode, "Hello, this is my voice.", file, null, instruct, 7, false, 1]);
    let url = "";
    for await (const m of job) {
      if (m.type === "data") url = (m.data as { url: string }[])[0]?.url ?? url;
      if (m.type === "status" && (m.stage === "complete" || m.stage === "error")) {
        expect(m.stage, `${key}: ${m.message ?? ""}`).toBe("complete");
        break;
      }
    }
    const wav = Buffer.from(await (await fetch(url.replace(/playlist\.m3u8$/, "playlist-file"))).arrayBuffer());
    client.close();
    const pcm = spawnSync("ffmpeg", ["-v", "error", "-i", "pipe:0", "-f", "f32le", "-ac", "1", "-ar", "24000", "pipe:1"], { input: wav, maxBuffer: 64 << 20 });
    expect(pcm.status, pcm.stderr?.toString()).toBe(0);
    const samples = new Float32Array(pcm.stdout.buffer, pcm.stdout.byteOffset, pcm.stdout.length >> 2);
    const record = readRecord(h.record);
    const call = record.findLast((e) => e.event === "call" && (e["inputs"] as { instruct_text: { value: string } }).instruct_text.value === instruct);
    const mine = (e: RecordEntry) => e["job"] === call?.["job"];
    const done = record.find((e) => mine(e) && e.event === "done");
    const chunks = record.filter((e) => mine(e) && e.event === "chunk").map((e) => String(e["digest"]));
    const out: Heard = { seconds: samples.length / 24_000, f0: medianF0(samples, 24_000), digest: chunks.join(","), applied: done?.["applied"] as Heard["applied"] };
    heard.set(key, out);
    return out;
  }

  beforeAll(async () => {
    h = await startStandin({ variant: "cv3-en", model: "cosyvoice3" });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("pace: slow is longer and fast shorter than the plain voice; the record names the rate", async () => {
    // Cross-lingual with the same prompt and seed is the plain voice (no instruction at all).
    const plain = await say("plain", "", "Cross-Lingual");
    const slow = await say("slow", TYPED.slow);
    const fast = await say("fast", TYPED.fast);
    expect(slow.seconds).toBeGreaterThan(plain.seconds * 1.3);
    expect(fast.seconds).toBeLessThan(plain.seconds * 0.8);
    expect(plain.applied.controls).toEqual({});
    expect(slow.applied).toMatchObject({ controls: { pace: "slow" }, espeak: { rate: Math.round(plain.applied.espeak.rate * 0.6) } });
    expect(fast.applied).toMatchObject({ controls: { pace: "fast" }, espeak: { rate: Math.round(plain.applied.espeak.rate * 1.6) } });
  });

  it("emotion and volume: happy and loud are higher, sad and soft lower; amplitude is in the record", async () => {
    const plain = heard.get("plain")!;
    const happy = await say("happy", TYPED.happy);
    const sad = await say("sad", TYPED.sad);
    const loud = await say("loud", TYPED.loud);
    const soft = await say("soft", TYPED.soft);
    expect(happy.f0).toBeGreaterThan(plain.f0 * 1.1);
    expect(sad.f0).toBeLessThan(plain.f0 * 0.9);
    expect(loud.f0).toBeGreaterThan(plain.f0);
    expect(soft.f0).toBeLessThan(plain.f0);
    expect(happy.applied).toMatchObject({ controls: { emotion: "happy" }, espeak: { pitch: plain.applied.espeak.pitch + 20 } });
    expect(sad.applied).toMatchObject({ controls: { emotion: "sad" }, espeak: { pitch: plain.applied.espeak.pitch - 20 } });
    expect(loud.applied.espeak.amplitude).toBeGreaterThan(plain.applied.espeak.amplitude);
    expect(soft.applied.espeak.amplitude).toBeLessThan(plain.applied.espeak.amplitude);
    expect(loud.applied.controls).toEqual({ volume: "loud" });
  });

  it("dialect: a voice variant of its own (different audio, same length class); free text works like the typed phrases", async () => {
    const plain = heard.get("plain")!;
    const sichuan = await say("sichuan", TYPED.sichuan);
    expect(sichuan.digest).not.toBe(plain.digest);
    expect(sichuan.applied.controls).toEqual({ dialect: "sichuan" });
    expect(sichuan.applied.espeak.voice).not.toBe(plain.applied.espeak.voice);
    // Free text (what OpenAI clients send as `instructions`, wrapped by the gateway as CosyVoice3
    // needs), several controls at once.
    const free = await say("free", `${SYSTEM}Speak slowly and sadly, please.${END}`);
    expect(free.applied.controls).toEqual({ pace: "slow", emotion: "sad" });
    expect(free.seconds).toBeGreaterThan(plain.seconds * 1.3);
    expect(free.f0).toBeLessThan(plain.f0 * 0.9);
  });

  it("an instruction with no control it knows is spoken in the plain voice, and the record says so", async () => {
    const plain = heard.get("plain")!;
    const pirate = await say("pirate", `${SYSTEM}Say it like a pirate.${END}`);
    expect(pirate.applied).toMatchObject({ controls: {}, unrecognised: "Say it like a pirate." });
    expect(pirate.digest).toBe(plain.digest); // same prompt, seed and text: byte-identical samples
    // And the `applied` event is written as the model starts speaking, beside the call.
    const events = readRecord(h.record).filter((e) => e.event === "applied");
    expect(events.length).toBe(heard.size);
  });
});

// The API servers hand the model the same instruction and send raw int16 PCM (no per-chunk
// normalisation): volume is heard as amplitude there, and `end.applied` says what was applied.
describe("instructions through the FastAPI server (raw PCM)", () => {
  let h: StandinHandle;
  const prompt = () => ({ prompt_wav: { data: synthWav({ sampleRate: 16_000, seconds: 2, f0: 120 }), name: "prompt.wav", type: "audio/wav" } });
  beforeAll(async () => {
    h = await startStandin({ serve: "fastapi", model: "cosyvoice3" });
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** RMS and duration of the PCM answer, and the call's `end` event. */
  async function say(instruct: string) {
    const r = await sendForm(`${h.url}/inference_instruct2`, { tts_text: TEXT, instruct_text: instruct }, prompt());
    expect(r.status).toBe(200);
    const pcm = new Int16Array(r.body.buffer, r.body.byteOffset, r.body.length >> 1);
    let sum = 0;
    for (const v of pcm) sum += (v / 32768) ** 2;
    const end = ends(h.record).at(-1)!;
    expect(end["pcm_sha256"]).toBe(sha256(r.body));
    return { rms: Math.sqrt(sum / pcm.length), seconds: pcm.length / 24_000, applied: end["applied"] as Heard["applied"] & { fail_at_chunk: unknown } };
  }

  it("loud is louder and soft quieter than no control; slow is longer; end.applied names them beside the server's own", async () => {
    const plain = await say(`${SYSTEM}Say it like a pirate.${END}`);
    const loud = await say(TYPED.loud);
    const soft = await say(TYPED.soft);
    const slow = await say(TYPED.slow);
    expect(loud.rms).toBeGreaterThan(plain.rms * 1.3);
    expect(soft.rms).toBeLessThan(plain.rms * 0.6);
    expect(slow.seconds).toBeGreaterThan(plain.seconds * 1.3);
    expect(loud.applied).toMatchObject({ controls: { volume: "loud" }, espeak: { amplitude: 190 }, fail_at_chunk: null });
    expect(plain.applied).toMatchObject({ controls: {}, unrecognised: "Say it like a pirate." });
  });
});
