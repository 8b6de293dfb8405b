/**
 * The `openai` driver, vLLM-Omni's flavour: an OpenAI-compatible `POST /v1/audio/speech` serving
 * Fun-CosyVoice3, which has no preset voices, so each request carries the saved voice's prompt
 * as `ref_audio` (a base64 data URL) and `ref_text`. The answer is asked as raw PCM streamed as
 * it is made (`response_format: "pcm"`, `stream_format: "audio"`), 24 kHz int16. Zero-shot
 * cloning only. Cancelling closes the connection (vLLM cancels a request whose client left).
 * Not built yet: another instance of this gateway (voices by id) and preset-voice servers.
 */
import { ConnectionError, UnsupportedBackendError, type SynthesisRequest } from "cosyvoice3-sdk";
import { BoxCannotError } from "../errors.ts";
import { pcmCall, promptBytes, wholePcmClip } from "../http-pcm.ts";
import type { BackendChunk, BoxCallOptions, BoxInfo, DriverOptions, SynthesisBackend } from "../port.ts";

const SERVICE = "the OpenAI-compatible speech server";
/** vLLM-Omni's CosyVoice3 always answers at 24 kHz. @unit hertz */
const RATE = 24_000;

/**
 * @example const box = openaiBackend("http://gpu-1:8091/v1", { model: "cosyvoice3", timeoutMs: 60_000 });
 */
export function openaiBackend(url: string, options: DriverOptions): SynthesisBackend {
  const base = url.replace(/\/+$/, "").replace(/(\/v1)?$/, "/v1");
  const doFetch = options.fetch ?? globalThis.fetch;
  const info: BoxInfo = { kind: "openai", variant: "openai", model: options.model, sampleRate: RATE, modes: ["clone"], speakers: [], codec: "pcm_s16le", speed: false };
  let served: Promise<string> | undefined;

  /** The model id the server serves (its `/v1/models`), asked once. */
  const modelId = (): Promise<string> => {
    if (!served) {
      const p = (async () => {
        let body: { object?: unknown; data?: { id?: unknown }[] };
        try {
          const res = await doFetch(`${base}/models`, { signal: AbortSignal.timeout(Math.min(options.timeoutMs, 10_000)) });
          body = (await res.json()) as typeof body;
        } catch (err) {
          throw new ConnectionError(`Could not reach ${SERVICE}`, { cause: err, accepted: false });
        }
        const id = body.object === "list" ? body.data?.[0]?.id : undefined;
        if (typeof id !== "string") throw new UnsupportedBackendError("The server lists no model at /v1/models", { models: body });
        return id;
      })();
      served = p;
      p.catch(() => {
        if (served === p) served = undefined;
      });
    }
    return served;
  };

  async function* stream(request: SynthesisRequest, opts: BoxCallOptions = {}): AsyncGenerator<BackendChunk> {
    // Refused before anything is sent: the server clones a voice, nothing else.
    if (request.mode !== "clone") throw new BoxCannotError("OpenAI-compatible", `${request.mode} mode`, "vLLM-Omni's CosyVoice3 does zero-shot cloning only (ref_audio + ref_text)");
    if (request.speed !== undefined && request.speed !== 1) throw new BoxCannotError("OpenAI-compatible", "speed", "speed is not applied to a streamed answer; send speed 1 (or none)");
    const audio = promptBytes(request.promptAudio);
    if (!audio) throw new BoxCannotError("OpenAI-compatible", "clone mode", "the prompt audio must be bytes");
    const body = {
      model: await modelId(),
      input: request.text,
      voice: "default",
      response_format: "pcm",
      stream_format: "audio",
      ref_audio: `data:${audio.mimeType ?? "audio/wav"};base64,${Buffer.from(audio.data).toString("base64")}`,
      ref_text: request.promptText,
    };
    let index = 0;
    const init: RequestInit = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
    for await (const pcm of pcmCall(`${base}/audio/speech`, init, { signal: opts.signal, timeoutMs: opts.timeoutMs ?? options.timeoutMs, fetch: doFetch, service: SERVICE })) {
      const durationMs = (pcm.byteLength / 2 / RATE) * 1000;
      opts.onProgress?.({ stage: "chunk", index, durationMs });
      yield { index: index++, data: pcm, codec: { kind: "pcm_s16le", sampleRate: RATE, channels: 1 }, durationMs, sampleRate: RATE };
    }
  }

  return {
    info: async () => info,
    async probe() {
      await modelId();
      return info;
    },
    listVoices: async () => [],
    synthesize: (request, opts) => wholePcmClip(stream(request, opts), RATE),
    stream,
    close: async () => undefined,
  };
}
