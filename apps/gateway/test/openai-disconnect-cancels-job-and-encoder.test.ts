// A slow "GPU" behind /v1/audio/speech: a client that hangs up mid-stream cancels the UI's job
// and leaves no ffmpeg running (counted in /proc); a full gateway refuses before any work with
// Retry-After and `x-should-retry: true`; a deadline is 504 with `x-should-retry: false`, which
// the official client obeys instead of running the job again.
import { readRecord, startStandin, synthWav, waitForRecord, type RecordEntry, type StandinHandle } from "@cosyvoice3/testkit";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectingBackend } from "../src/backends/gradio/driver.ts";
import type { SynthesisBackend } from "../src/backends/port.ts";
import type { GatewayConfig } from "../src/platform/config.ts";
import { liveFfmpegChildren } from "./helpers/ffprobe.ts";
import { SDK_READY, SDK_SKIP_REASON } from "./helpers/full-stack.ts";
import { jsonPost, startTestGateway, voiceForm, type TestGateway } from "./helpers/harness.ts";

const TEXT = "One sentence here. Two sentences here. Three sentences here. Four sentences here.";
const calls = (rec: RecordEntry[]) => rec.filter((e) => e.event === "call" && e["fn"] === "generate_audio");

async function until(pred: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!SDK_READY)(`openai: disconnect, capacity and deadline${SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`}`, () => {
  let standin: StandinHandle;
  let backend: SynthesisBackend;
  const gateways: TestGateway[] = [];
  let small: TestGateway;
  const gateway = async (config: Partial<GatewayConfig>) => {
    const gw = await startTestGateway({ backend, config: { voiceAliases: { alloy: "Vee" }, ...config } });
    gateways.push(gw);
    await gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav({ seconds: 3 }), name: "Vee", promptText: "Hello there." }) });
    return gw;
  };
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice3", firstChunkDelayMs: 1500, chunkDelayMs: 600 });
    backend = connectingBackend(standin.url, { client: { model: "cosyvoice3", maxRetries: 0 } });
    // One job and one encoder at a time, nobody waiting.
    small = await gateway({ concurrency: 1, queueSize: 0, maxEncoders: 1 });
  });
  afterAll(async () => {
    for (const gw of gateways) await gw.close();
    await backend?.close();
    await standin?.stop();
  });

  it("a client that hangs up mid-stream cancels the UI job and leaves no encoder running", async () => {
    const ac = new AbortController();
    const res = await fetch(`${small.url}/v1/audio/speech`, { ...jsonPost({ model: "tts-1", voice: "alloy", input: TEXT }), signal: ac.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    expect(await liveFfmpegChildren()).toBe(1);
    const job = calls(readRecord(standin.record)).at(-1)!["job"];
    ac.abort();
    const rec = await waitForRecord(standin.record, (r) => r.some((e) => e["job"] === job && e.event === "cancelled"));
    expect(rec.some((e) => e["job"] === job && e.event === "done")).toBe(false);
    await until(async () => (await liveFfmpegChildren()) === 0);
    await until(async () => small.slots.load.running === 0);
  });

  it("every job slot taken: 503 with Retry-After and x-should-retry true, nothing sent to the UI", async () => {
    const client = new OpenAI({ apiKey: "any", baseURL: `${small.url}/v1`, maxRetries: 0 });
    const first = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: TEXT, response_format: "aac" });
    const before = calls(readRecord(standin.record)).length;
    let err: unknown;
    try {
      await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: "Hello.", response_format: "aac" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    const e = err as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(503);
    expect(e.error).toMatchObject({ type: "server_error", code: "busy" });
    expect(Number(e.headers?.get("retry-after"))).toBeGreaterThan(0);
    expect(e.headers?.get("x-should-retry")).toBe("true");
    await first.arrayBuffer();
    expect(calls(readRecord(standin.record)).length).toBe(before);
  });

  it("every encoder taken: 503 encoders_busy before any synthesis starts", async () => {
    const holder = await fetch(`${small.url}/v1/audio/speech`, jsonPost({ model: "tts-1", voice: "alloy", input: TEXT, response_format: "flac" }));
    const before = calls(readRecord(standin.record)).length;
    const res = await small.api("/v1/audio/speech", jsonPost({ model: "tts-1", voice: "alloy", input: "Hello.", response_format: "mp3" }));
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe("encoders_busy");
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get("x-should-retry")).toBe("true");
    await holder.arrayBuffer();
    expect(calls(readRecord(standin.record)).length).toBe(before);
    await until(async () => (await liveFfmpegChildren()) === 0);
  });

  it("a deadline: 504 with x-should-retry false, and the official client does not run the job again", async () => {
    const hasty = await gateway({ upstreamTimeoutMs: 1000 });
    const client = new OpenAI({ apiKey: "any", baseURL: `${hasty.url}/v1`, maxRetries: 2 });
    const before = calls(readRecord(standin.record)).length;
    let err: unknown;
    try {
      await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: "Hello there." });
    } catch (e) {
      err = e;
    }
    const e = err as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(504);
    expect(e.error).toMatchObject({ code: "deadline_exceeded" });
    expect(e.headers?.get("x-should-retry")).toBe("false");
    const rec = await waitForRecord(standin.record, (r) => calls(r).length > before && r.some((x) => x["job"] === calls(r).at(-1)!["job"] && x.event === "cancelled"));
    expect(calls(rec).length).toBe(before + 1);
  });

  it("instructions where the UI cannot follow them (official UI, CosyVoice3): 400 saying why", async () => {
    const res = await small.api("/v1/audio/speech", jsonPost({ model: "tts-1", voice: "alloy", input: "Hello.", instructions: "Whisper." }));
    expect(res.status).toBe(400);
    expect(res.json.error.param).toBe("instructions");
    expect(res.json.error.message).toContain("cannot follow instructions");
    expect(res.json.error.message).toContain("CosyVoice 1");
  });
});
