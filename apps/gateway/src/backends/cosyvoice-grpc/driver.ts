/**
 * The `cosyvoice-grpc` driver: CosyVoice's official gRPC server, `cosyvoice.CosyVoice/Inference`
 * (server-streaming), through @grpc/grpc-js on the wire contract in `cosyvoice.proto`. Each
 * `Response.tts_audio` is int16 PCM at the model's rate. Cancelling cancels the call.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type * as Grpc from "@grpc/grpc-js";
import { AbortError, ConnectionError, TimeoutError, UpstreamError, type ModelFamily } from "cosyvoice3-sdk";
import { BoxCannotError } from "../errors.ts";
import { promptBytes, wholePcmClip } from "../http-pcm.ts";
import { MODEL_RATE, type BackendChunk, type BoxCallOptions, type BoxInfo, type DriverOptions, type SynthesisBackend } from "../port.ts";
import { grpcCall, grpcModes } from "./request.ts";

/** The .proto beside this module (in the sources; the build copies it beside the JS). */
const PROTO = join(dirname(fileURLToPath(import.meta.url)), "cosyvoice.proto");

interface InferenceClient extends Grpc.Client {
  Inference(req: object, opts?: Grpc.CallOptions): Grpc.ClientReadableStream<{ tts_audio: Buffer }>;
}

/** gRPC's library and the service's client class, loaded on a gRPC box's first use (not at start: they cost memory). */
interface Loaded {
  grpc: typeof Grpc;
  Client: new (address: string, creds: Grpc.ChannelCredentials) => InferenceClient;
}
let loading: Promise<Loaded> | undefined;
function load(): Promise<Loaded> {
  loading ??= Promise.all([import("@grpc/grpc-js"), import("@grpc/proto-loader")]).then(([grpc, protoLoader]) => {
    const def = protoLoader.loadSync(PROTO, { keepCase: true, defaults: true, oneofs: true });
    const Client = (grpc.loadPackageDefinition(def) as unknown as { cosyvoice: { CosyVoice: Loaded["Client"] } }).cosyvoice.CosyVoice;
    return { grpc, Client };
  });
  return loading;
}

/** Any audio file as raw 16 kHz mono int16 (ffmpeg), what the server's prompt_audio is. */
function to16kPcm(data: Uint8Array, signal?: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn("ffmpeg", ["-hide_banner", "-loglevel", "error", "-nostdin", "-i", "pipe:0", "-ac", "1", "-ar", "16000", "-f", "s16le", "pipe:1"], { stdio: ["pipe", "pipe", "pipe"], ...(signal ? { signal } : {}) });
    const out: Buffer[] = [];
    let err = "";
    p.stdout.on("data", (b: Buffer) => out.push(b));
    p.stderr.on("data", (b: Buffer) => (err += b.toString()));
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new BoxCannotError("gRPC", "prompt audio", `it could not be converted to 16 kHz PCM (${err.trim().slice(0, 200)})`))));
    p.stdin.on("error", () => undefined);
    p.stdin.end(data);
  });
}

/** What a failed call means, in the SDK's error classes (each declares accepted/boxFault/resendable). */
function errorOf(grpc: typeof Grpc, e: Grpc.ServiceError, sawData: boolean, timeoutMs: number): Error {
  if (e.code === grpc.status.UNAVAILABLE && !sawData) return new ConnectionError(`Could not reach the CosyVoice gRPC server (${e.details})`, { cause: e, accepted: false });
  if (e.code === grpc.status.DEADLINE_EXCEEDED) return new TimeoutError(timeoutMs, { accepted: true, cause: e });
  if (e.code === grpc.status.CANCELLED) return new AbortError({ accepted: true, cause: e });
  return new UpstreamError(`The CosyVoice gRPC server failed the call (${grpc.status[e.code]})`, e.details, { cause: e, accepted: true });
}

/**
 * @example const box = grpcBackend("grpc://gpu-1:50000", { model: "cosyvoice1", timeoutMs: 60_000 });
 */
export function grpcBackend(url: string, options: DriverOptions): SynthesisBackend {
  const address = url.replace(/^grpc:\/\//i, "").replace(/\/+$/, "");
  const model: ModelFamily = options.model;
  const rate = MODEL_RATE[model];
  const can = grpcModes(model);
  const info: BoxInfo = { kind: "cosyvoice-grpc", variant: "cosyvoice-grpc", model, sampleRate: rate, modes: can.modes, speakers: can.speakers, codec: "pcm_s16le", speed: false, ...(model === "cosyvoice1" ? { instructNeeds: "voice" as const } : {}) };
  let client: InferenceClient | undefined;
  const get = async (): Promise<{ grpc: typeof Grpc; client: InferenceClient }> => {
    const { grpc, Client } = await load();
    client ??= new Client(address, grpc.credentials.createInsecure());
    return { grpc, client };
  };

  async function* stream(request: Parameters<SynthesisBackend["stream"]>[0], opts: BoxCallOptions = {}): AsyncGenerator<BackendChunk> {
    const call = grpcCall(request, model);
    const fields: Record<string, unknown> = { ...call.fields };
    if (call.needsPrompt) {
      const audio = "promptAudio" in request ? promptBytes(request.promptAudio) : undefined;
      if (!audio) throw new BoxCannotError("gRPC", `${request.mode} mode`, "the prompt audio must be bytes");
      fields["prompt_audio"] = await to16kPcm(audio.data, opts.signal);
    }
    const timeoutMs = opts.timeoutMs ?? options.timeoutMs;
    const { grpc, client: c } = await get();
    const rpc = c.Inference({ [call.payload]: fields }, { deadline: Date.now() + timeoutMs });
    const onAbort = () => rpc.cancel();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
    let index = 0;
    let done = false;
    try {
      for await (const r of rpc as AsyncIterable<{ tts_audio: Buffer }>) {
        const pcm = r.tts_audio;
        if (pcm.byteLength === 0) continue;
        const durationMs = (pcm.byteLength / 2 / rate) * 1000;
        opts.onProgress?.({ stage: "chunk", index, durationMs });
        yield { index: index++, data: pcm, codec: { kind: "pcm_s16le", sampleRate: rate, channels: 1 }, durationMs, sampleRate: rate };
      }
      done = true;
    } catch (err) {
      if (opts.signal?.aborted) throw new AbortError({ accepted: true, cause: err });
      throw errorOf(grpc, err as Grpc.ServiceError, index > 0, timeoutMs);
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      // Left early (the consumer stopped): cancel the call, so the server stops the model.
      if (!done) rpc.cancel();
    }
  }

  return {
    info: async () => info,
    async probe() {
      // gRPC answers no HTTP probe: the channel connecting within a bound is the check.
      const { client: c } = await get();
      await new Promise<void>((resolve, reject) =>
        c.waitForReady(Date.now() + Math.min(options.timeoutMs, 5_000), (err) => (err ? reject(new ConnectionError(`Could not reach the CosyVoice gRPC server at ${address}`, { cause: err, accepted: false })) : resolve())),
      );
      return info;
    },
    listVoices: async () => [...can.speakers],
    synthesize: (request, opts) => wholePcmClip(stream(request, opts), rate),
    stream,
    async close() {
      client?.close();
      client = undefined;
    },
  };
}
