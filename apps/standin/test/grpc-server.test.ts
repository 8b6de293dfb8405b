import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { readRecord, startStandin, waitForRecord, type StandinHandle } from "@cosyvoice3/testkit";
import { ends, eventsOf, sha256, sleep } from "./http-helpers.ts";

// The wire contract the gateway's driver speaks; the stand-in compiles the same file.
const PROTO = join(dirname(fileURLToPath(import.meta.url)), "../../gateway/src/backends/cosyvoice-grpc/cosyvoice.proto");
const PREFIX = "You are a helpful assistant.<|endofprompt|>";

interface InferenceClient extends grpc.Client {
  Inference(req: object, opts?: grpc.CallOptions): grpc.ClientReadableStream<{ tts_audio: Buffer }>;
}

function client(address: string): InferenceClient {
  const def = protoLoader.loadSync(PROTO, { keepCase: true, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { cosyvoice: { CosyVoice: new (a: string, c: grpc.ChannelCredentials) => InferenceClient } };
  return new pkg.cosyvoice.CosyVoice(address, grpc.credentials.createInsecure());
}

interface Outcome {
  pieces: Buffer[];
  audio: Buffer;
  error?: grpc.ServiceError;
}

function infer(c: InferenceClient, req: object, opts: { cancelAfter?: number; deadlineMs?: number } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const callOpts: grpc.CallOptions = opts.deadlineMs ? { deadline: Date.now() + opts.deadlineMs } : {};
    const call = c.Inference(req, callOpts);
    const pieces: Buffer[] = [];
    const done = (error?: grpc.ServiceError) => resolve({ pieces, audio: Buffer.concat(pieces), ...(error ? { error } : {}) });
    call.on("data", (r: { tts_audio: Buffer }) => {
      pieces.push(r.tts_audio);
      if (opts.cancelAfter !== undefined && pieces.length >= opts.cancelAfter) call.cancel();
    });
    call.on("error", (e: grpc.ServiceError) => done(e));
    call.on("end", () => done());
  });
}

/** 16 kHz int16 PCM of a voice-like tone: what the gRPC server takes as prompt_audio. */
function prompt16k(seconds = 2, f0 = 140): Buffer {
  const n = 16_000 * seconds;
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const t = i / 16_000;
    const v = (0.55 + 0.45 * Math.sin(2 * Math.PI * 3 * t)) * (0.5 * Math.sin(2 * Math.PI * f0 * t) + 0.25 * Math.sin(4 * Math.PI * f0 * t));
    b.writeInt16LE(Math.round(v * 0.8 * 32767), i * 2);
  }
  return b;
}

describe("--serve grpc (CosyVoice3): cosyvoice.CosyVoice/Inference, server-streaming", () => {
  let h: StandinHandle;
  let c: InferenceClient;
  beforeAll(async () => {
    h = await startStandin({ serve: "grpc", model: "cosyvoice3" });
    c = client(h.address);
  });
  afterAll(async () => {
    c?.close();
    await h?.stop();
  });

  it("zero_shot_request: one Response per sentence, int16 PCM at 24 kHz, bit-exact to the record", async () => {
    const out = await infer(c, {
      zero_shot_request: { tts_text: "First sentence. Second sentence.", prompt_text: `${PREFIX}A prompt.`, prompt_audio: prompt16k() },
    });
    expect(out.error).toBeUndefined();
    expect(out.pieces).toHaveLength(2);
    const end = ends(h.record).at(-1)!;
    expect(end).toMatchObject({ endpoint: "cosyvoice.CosyVoice/Inference", mode: "zero_shot", outcome: "complete", chunks: 2, pcm_bytes: out.audio.length });
    expect(end["pcm_sha256"]).toBe(sha256(out.audio));
    expect(end["applied"]).toMatchObject({ prompt_audio: { bytes: 64_000, sample_rate: 16_000, duration_ms: 2000 } });
    const chunks = readRecord(h.record).filter((e) => e.event === "chunk" && e["job"] === end["job"]);
    expect(chunks.map((e) => [e["bytes"], e["sample_rate"]])).toEqual(out.pieces.map((p) => [p.length, 24_000]));
  });

  it("cross_lingual_request streams", async () => {
    const out = await infer(c, { cross_lingual_request: { tts_text: `${PREFIX}Bonjour. Hello.`, prompt_audio: prompt16k(1) } });
    expect(out.error).toBeUndefined();
    expect(ends(h.record).at(-1)).toMatchObject({ mode: "cross_lingual", outcome: "complete", chunks: 2, pcm_sha256: sha256(out.audio) });
  });

  it("the model's failures end the call with UNKNOWN 'Exception iterating responses: ...'", async () => {
    const noMarker = await infer(c, { zero_shot_request: { tts_text: "Hello.", prompt_text: "A prompt.", prompt_audio: prompt16k(1) } });
    expect(noMarker.error?.code).toBe(grpc.status.UNKNOWN);
    expect(noMarker.error?.details).toBe("Exception iterating responses: <|endofprompt|> not detected in CosyVoice3 text or prompt_text, check your input!");
    const instruct = await infer(c, { instruct_request: { tts_text: `${PREFIX}Hi.`, spk_id: "中文女", instruct_text: "calm" } });
    expect(instruct.error?.details).toBe("Exception iterating responses: inference_instruct is only implemented for CosyVoice!");
    expect(ends(h.record).slice(-2).map((e) => [e["mode"], e["outcome"]])).toEqual([
      ["zero_shot", "failed"],
      ["instruct", "failed"],
    ]);
  });

  it("a Request with no payload is handled as instruct (upstream's else branch)", async () => {
    const out = await infer(c, {});
    expect(out.error?.code).toBe(grpc.status.UNKNOWN);
    expect(ends(h.record).at(-1)).toMatchObject({ mode: "instruct", tts_text: "", outcome: "failed" });
  });
});

describe("--serve grpc (CosyVoice1)", () => {
  let h: StandinHandle;
  let c: InferenceClient;
  beforeAll(async () => {
    h = await startStandin({ serve: "grpc", model: "cosyvoice1" });
    c = client(h.address);
  });
  afterAll(async () => {
    c?.close();
    await h?.stop();
  });

  it("sft_request and instruct_request stream at 22050 Hz", async () => {
    const sft = await infer(c, { sft_request: { spk_id: "英文女", tts_text: "Hello there. Goodbye." } });
    const instruct = await infer(c, { instruct_request: { tts_text: "Hello.", spk_id: "英文男", instruct_text: "cheerful" } });
    expect([sft.error, instruct.error]).toEqual([undefined, undefined]);
    const [a, b] = ends(h.record).slice(-2);
    expect(a).toMatchObject({ mode: "sft", spk_id: "英文女", chunks: 2, outcome: "complete", pcm_sha256: sha256(sft.audio) });
    expect(b).toMatchObject({ mode: "instruct", instruct_text: "cheerful", chunks: 1, outcome: "complete", pcm_sha256: sha256(instruct.audio) });
    expect(new Set(readRecord(h.record).filter((e) => e.event === "chunk").map((e) => e["sample_rate"]))).toEqual(new Set([22_050]));
  });
});

describe("--serve grpc: cancel, --max-conc and fault knobs", () => {
  let h: StandinHandle | undefined;
  let c: InferenceClient | undefined;
  afterEach(async () => {
    c?.close();
    c = undefined;
    await h?.stop();
    h = undefined;
  });
  const SFT = { sft_request: { spk_id: "中文女", tts_text: "One. Two. Three. Four. Five." } };

  it("cancelling the call stops the model: client_closed, no chunk after it", async () => {
    h = await startStandin({ serve: "grpc", model: "cosyvoice1", chunkDelayMs: 1200 });
    c = client(h.address);
    const out = await infer(c, SFT, { cancelAfter: 1 });
    expect(out.error?.code).toBe(grpc.status.CANCELLED);
    const rec = await waitForRecord(h.record, (es) => es.some((e) => e.event === "end"));
    const end = rec.find((e) => e.event === "end")!;
    expect(end).toMatchObject({ outcome: "client_closed", chunks: 1, pcm_sha256: sha256(out.audio) });
    await sleep(2600);
    expect(eventsOf(h.record, end["job"])).toEqual(["call", "chunk", "end"]);
  });

  it("a deadline that passes cancels the call on the server too", async () => {
    h = await startStandin({ serve: "grpc", model: "cosyvoice1", firstChunkDelayMs: 3000 });
    c = client(h.address);
    const out = await infer(c, SFT, { deadlineMs: 800 });
    expect(out.error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    const rec = await waitForRecord(h.record, (es) => es.some((e) => e.event === "end"));
    expect(rec.find((e) => e.event === "end")).toMatchObject({ outcome: "client_closed", chunks: 0 });
  });

  it("--max-conc 1: a second call while one runs is refused with RESOURCE_EXHAUSTED", async () => {
    h = await startStandin({ serve: "grpc", model: "cosyvoice1", maxConc: 1, firstChunkDelayMs: 1500 });
    c = client(h.address);
    const first = infer(c, SFT);
    await waitForRecord(h.record, (es) => es.some((e) => e.event === "call"));
    const second = await infer(c, SFT);
    expect(second.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect((await first).error).toBeUndefined();
    expect(ends(h.record).map((e) => e["outcome"])).toEqual(["complete"]);
  });

  it("--fail-rate 1 fails every call; --crash-after-chunks kills the process", async () => {
    h = await startStandin({ serve: "grpc", model: "cosyvoice1", failRate: 1 });
    c = client(h.address);
    const out = await infer(c, SFT);
    expect(out.error?.details).toBe("Exception iterating responses: injected failure (--fail-rate)");
    expect(ends(h.record).at(-1)).toMatchObject({ outcome: "failed", message: "injected failure (--fail-rate)" });
    c.close();
    await h.stop();

    h = await startStandin({ serve: "grpc", model: "cosyvoice1", crashAfterChunks: 2, chunkDelayMs: 100 });
    c = client(h.address);
    const exited = new Promise<number | null>((r) => h!.process.once("exit", (code) => r(code)));
    const crashed = await infer(c, SFT);
    expect(crashed.error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(await exited).toBe(70);
    expect(ends(h.record).at(-1)).toMatchObject({ outcome: "crashed", chunks: 2 });
  });
});
