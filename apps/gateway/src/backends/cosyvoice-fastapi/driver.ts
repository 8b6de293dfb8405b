/**
 * The `cosyvoice-fastapi` driver: CosyVoice's official FastAPI server. Each call is one POST of
 * form fields (and `prompt_wav`); the answer is raw int16 PCM at the model's rate, one piece per
 * sentence, streamed. The server runs one model and does not say which, so the family (its rate,
 * its modes) comes from configuration. Cancelling closes the connection: the server's generator
 * stops at its next yield.
 */
import { ConnectionError, UnsupportedBackendError, type ModelFamily, type SynthesisRequest } from "cosyvoice3-sdk";
import { pcmCall, wholePcmClip } from "../http-pcm.ts";
import { MODEL_RATE, type BackendChunk, type BoxCallOptions, type BoxInfo, type DriverOptions, type SynthesisBackend } from "../port.ts";
import { fastapiCall, fastapiModes } from "./request.ts";

const SERVICE = "the CosyVoice FastAPI server";

/**
 * @example const box = fastapiBackend("http://gpu-1:50000", { model: "cosyvoice3", timeoutMs: 60_000 });
 * for await (const chunk of box.stream({ mode: "clone", text, promptText, promptAudio }, { signal })) out.write(chunk.data);
 */
export function fastapiBackend(url: string, options: DriverOptions): SynthesisBackend {
  const base = url.replace(/\/+$/, "");
  const model: ModelFamily = options.model;
  const rate = MODEL_RATE[model];
  const can = fastapiModes(model);
  const info: BoxInfo = {
    kind: "cosyvoice-fastapi",
    variant: "cosyvoice-fastapi",
    model,
    sampleRate: rate,
    modes: can.modes,
    speakers: can.speakers,
    codec: "pcm_s16le",
    instructNeeds: can.instructNeeds,
    speed: false,
  };
  const doFetch = options.fetch ?? globalThis.fetch;

  async function* stream(request: SynthesisRequest, opts: BoxCallOptions = {}): AsyncGenerator<BackendChunk> {
    // Refused here, before anything is sent, when the model cannot do it.
    const call = fastapiCall(request, model);
    const form = new FormData();
    for (const [k, v] of Object.entries(call.fields)) form.set(k, v);
    if (call.promptWav) {
      const { data, name, mimeType } = call.promptWav;
      form.set("prompt_wav", new Blob([data as Uint8Array<ArrayBuffer>], mimeType ? { type: mimeType } : {}), name);
    }
    let index = 0;
    for await (const pcm of pcmCall(base + call.path, { method: "POST", body: form }, { signal: opts.signal, timeoutMs: opts.timeoutMs ?? options.timeoutMs, fetch: doFetch, service: SERVICE })) {
      const durationMs = (pcm.byteLength / 2 / rate) * 1000;
      opts.onProgress?.({ stage: "chunk", index, durationMs });
      yield { index: index++, data: pcm, codec: { kind: "pcm_s16le", sampleRate: rate, channels: 1 }, durationMs, sampleRate: rate };
    }
  }

  return {
    info: async () => info,
    async probe() {
      // FastAPI's generated document lists the server's routes: the official server's are there.
      let paths: Record<string, unknown> = {};
      try {
        const res = await doFetch(`${base}/openapi.json`, { signal: AbortSignal.timeout(Math.min(options.timeoutMs, 10_000)) });
        if (res.ok) paths = ((await res.json()) as { paths?: Record<string, unknown> }).paths ?? {};
        else await res.body?.cancel();
      } catch (err) {
        throw new ConnectionError(`Could not reach ${SERVICE}`, { cause: err, accepted: false });
      }
      if (!("/inference_zero_shot" in paths)) throw new UnsupportedBackendError(`The server is not CosyVoice's FastAPI server (no /inference_zero_shot in /openapi.json)`, { paths: Object.keys(paths).slice(0, 20) });
      return info;
    },
    listVoices: async () => [...can.speakers],
    synthesize: (request, opts) => wholePcmClip(stream(request, opts), rate),
    stream,
    close: async () => undefined,
  };
}
