/**
 * The `openai` driver: any OpenAI-compatible `POST /v1/audio/speech`, asked for raw PCM streamed
 * as it is made (`response_format: "pcm"`, `stream_format: "audio"`). What the server can do is
 * read from its own `GET /v1/audio/voices` when the driver connects:
 * - no voices (vLLM-Omni serving Fun-CosyVoice3: `{"voices": [], "uploaded_voices": []}`):
 *   zero-shot cloning only, each request carrying the saved voice's prompt as `ref_audio` (a
 *   base64 data URL) and `ref_text`, 24 kHz int16;
 * - voices listed (another instance of this gateway, `{voices: [{id, name}]}`; Kokoro-FastAPI
 *   and speaches, ids or names): pretrained only, the listed ids as the box's built-in speakers,
 *   sent as `voice`; `speed` is passed on. The rate is the one the answer's headers say
 *   (`audio/pcm;rate=...`, `X-Sample-Rate`), else 24 kHz.
 * Cancelling closes the connection (vLLM, FastAPI servers and this gateway stop a request whose
 * client left).
 */
import { ConnectionError, UnsupportedBackendError, type SynthesisRequest } from "cosyvoice3-sdk";
import { BoxCannotError } from "../errors.ts";
import { pcmCall, promptBytes, wholePcmClip } from "../http-pcm.ts";
import type { BackendChunk, BoxCallOptions, BoxInfo, DriverOptions, SynthesisBackend } from "../port.ts";

const SERVICE = "the OpenAI-compatible speech server";
/** vLLM-Omni's CosyVoice3 always answers at 24 kHz; so does OpenAI's own pcm. @unit hertz */
const RATE = 24_000;

/** What the server turned out to be when the driver connected. */
interface Served {
  model: string;
  /** Its preset voices' ids; empty for a cloning server (vLLM-Omni's CosyVoice3). */
  voices: string[];
}

/**
 * The ids of a `GET /v1/audio/voices` answer, in the shapes servers use: `{voices: [{id, name}]}`
 * (Open WebUI's convention, this gateway), `{voices: ["af_bella", ...]}` (Kokoro-FastAPI), a bare
 * array of either (speaches), `voice_id` for id.
 * @example voiceIds({ voices: [{ id: "builtin:中文女", name: "中文女" }] }) // ["builtin:中文女"]
 */
export function voiceIds(body: unknown): string[] {
  const list = Array.isArray(body) ? body : Array.isArray((body as { voices?: unknown } | null)?.voices) ? (body as { voices: unknown[] }).voices : [];
  const ids = list.map((v) => {
    if (typeof v === "string") return v;
    const o = v as { id?: unknown; voice_id?: unknown; name?: unknown } | null;
    const id = o?.id ?? o?.voice_id ?? o?.name;
    return typeof id === "string" ? id : undefined;
  });
  return [...new Set(ids.filter((id): id is string => id !== undefined && id !== ""))];
}

/** The rate a PCM answer's headers say (`audio/pcm;rate=22050`, `X-Sample-Rate`). @unit hertz */
function rateOf(res: Response): number | undefined {
  const fromType = /(?:^|;)\s*rate=(\d+)/i.exec(res.headers.get("content-type") ?? "")?.[1];
  const n = Number(fromType ?? res.headers.get("x-sample-rate") ?? NaN);
  return Number.isInteger(n) && n >= 8_000 && n <= 192_000 ? n : undefined;
}

/**
 * @example const box = openaiBackend("http://gpu-1:8091/v1", { model: "cosyvoice3", timeoutMs: 60_000 });
 */
export function openaiBackend(url: string, options: DriverOptions): SynthesisBackend {
  const base = url.replace(/\/+$/, "").replace(/(\/v1)?$/, "/v1");
  const doFetch = options.fetch ?? globalThis.fetch;
  let served: Promise<Served> | undefined;

  const getJson = async (path: string): Promise<{ status: number; body: unknown }> => {
    const res = await doFetch(`${base}${path}`, { signal: AbortSignal.timeout(Math.min(options.timeoutMs, 10_000)) });
    if (res.status !== 200) {
      await res.body?.cancel();
      return { status: res.status, body: undefined };
    }
    return { status: res.status, body: await res.json() };
  };

  /** The model id the server serves (its `/v1/models`) and its preset voices, asked once. */
  const connect = (): Promise<Served> => {
    if (!served) {
      const p = (async () => {
        let models: { object?: unknown; data?: { id?: unknown }[] } | undefined;
        let voices: unknown;
        try {
          models = (await getJson("/models")).body as typeof models;
          // A server without the listing (404) has no presets to offer.
          voices = (await getJson("/audio/voices")).body;
        } catch (err) {
          throw new ConnectionError(`Could not reach ${SERVICE}`, { cause: err, accepted: false });
        }
        const id = models?.object === "list" ? models.data?.[0]?.id : undefined;
        if (typeof id !== "string") throw new UnsupportedBackendError("The server lists no model at /v1/models", { models });
        return { model: id, voices: voiceIds(voices) };
      })();
      served = p;
      p.catch(() => {
        if (served === p) served = undefined;
      });
    }
    return served;
  };

  const infoOf = (s: Served): BoxInfo =>
    s.voices.length === 0
      ? { kind: "openai", variant: "openai", model: options.model, sampleRate: RATE, modes: ["clone"], speakers: [], codec: "pcm_s16le", speed: false }
      : // Preset voices: pretrained only, the rate told per answer.
        { kind: "openai", variant: "openai-presets", model: options.model, modes: ["pretrained"], speakers: [...s.voices], codec: "pcm_s16le", speed: true };

  /** The body of one request: a clone for vLLM-Omni's CosyVoice3, a preset voice otherwise. */
  function bodyOf(request: SynthesisRequest, s: Served): Record<string, unknown> {
    const common = { model: s.model, input: request.text, response_format: "pcm", stream_format: "audio" };
    if (s.voices.length > 0) {
      // Refused before anything is sent: the server speaks in its own voices, nothing else.
      if (request.mode !== "pretrained" || !("voice" in request) || typeof request.voice !== "string") {
        throw new BoxCannotError("OpenAI-compatible", `${request.mode} mode`, "this server offers its preset voices only (pretrained)");
      }
      if (!s.voices.includes(request.voice)) throw new BoxCannotError("OpenAI-compatible", "this voice", `it has no voice ${JSON.stringify(request.voice)}`);
      return { ...common, voice: request.voice, ...(request.speed !== undefined && request.speed !== 1 ? { speed: request.speed } : {}) };
    }
    if (request.mode !== "clone") throw new BoxCannotError("OpenAI-compatible", `${request.mode} mode`, "vLLM-Omni's CosyVoice3 does zero-shot cloning only (ref_audio + ref_text)");
    if (request.speed !== undefined && request.speed !== 1) throw new BoxCannotError("OpenAI-compatible", "speed", "speed is not applied to a streamed answer; send speed 1 (or none)");
    const audio = promptBytes(request.promptAudio);
    if (!audio) throw new BoxCannotError("OpenAI-compatible", "clone mode", "the prompt audio must be bytes");
    return {
      ...common,
      voice: "default",
      ref_audio: `data:${audio.mimeType ?? "audio/wav"};base64,${Buffer.from(audio.data).toString("base64")}`,
      ref_text: request.promptText,
    };
  }

  async function* stream(request: SynthesisRequest, opts: BoxCallOptions = {}): AsyncGenerator<BackendChunk> {
    const body = bodyOf(request, await connect());
    let rate = RATE;
    let index = 0;
    const init: RequestInit = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
    const call = pcmCall(`${base}/audio/speech`, init, {
      signal: opts.signal,
      timeoutMs: opts.timeoutMs ?? options.timeoutMs,
      fetch: doFetch,
      service: SERVICE,
      onAnswer: (res) => (rate = rateOf(res) ?? RATE),
    });
    for await (const pcm of call) {
      const durationMs = (pcm.byteLength / 2 / rate) * 1000;
      opts.onProgress?.({ stage: "chunk", index, durationMs });
      yield { index: index++, data: pcm, codec: { kind: "pcm_s16le", sampleRate: rate, channels: 1 }, durationMs, sampleRate: rate };
    }
  }

  return {
    info: async () => infoOf(await connect()),
    async probe() {
      // A readiness check asks again: presets added or removed on the server show up.
      served = undefined;
      return infoOf(await connect());
    },
    listVoices: async () => [...(await connect()).voices],
    async synthesize(request, opts) {
      const parts: BackendChunk[] = [];
      for await (const c of stream(request, opts)) parts.push(c);
      // The rate is the answer's, as its chunks say.
      return wholePcmClip(parts, parts[0]?.sampleRate ?? RATE);
    },
    stream,
    close: async () => undefined,
  };
}
