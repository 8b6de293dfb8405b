import createFetchClient, { type Client, type Middleware } from "openapi-fetch";
import { ApiError, apiError, fetchFailure } from "./errors.ts";
import type { paths } from "./generated/openapi.ts";
import type { SynthesisCreated, SynthesizeRequest, Voice, VoiceConsent } from "./types.ts";

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** The gateway's origin (and path prefix, if it is mounted under one), e.g. `http://127.0.0.1:5000`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` on every request. @default none (an open gateway) */
  apiKey?: string;
  /** Extra headers on every request. @default {} */
  headers?: Record<string, string>;
  /** The fetch every request goes through. @default globalThis.fetch */
  fetch?: (input: Request) => Promise<Response>;
}

/** Per-call options of the helpers. */
export interface CallOptions {
  /** Aborts the call; for a synthesis, the gateway then cancels the job on the backend. */
  signal?: AbortSignal;
}

/** Audio a voice is saved from: a File or Blob (browsers), a Buffer or any bytes (Node). */
export type AudioInput = Blob | ArrayBuffer | ArrayBufferView;

/** What {@link CosyVoiceClient.saveVoice} takes. */
export interface SaveVoiceInput {
  /** The prompt audio: WAV, FLAC, Ogg, MP3 or M4A, at least 16 kHz, at most 30 s. The gateway sniffs the bytes. */
  audio: AudioInput;
  /** A display name. */
  name: string;
  /**
   * What the prompt audio says; needed for clone mode. Leave it out when the gateway
   * transcribes (`GET /capabilities` says `voices.transcribes`): its ASR server fills it in.
   */
  promptText?: string;
  /** The id of a voice consent (`cons_...`, see {@link CosyVoiceClient.recordConsent}); required when `voices.consent` is `required`. */
  consent?: string;
  /** File name sent with the audio. @default the File's name, else `"prompt"` */
  filename?: string;
}

/** What {@link CosyVoiceClient.recordConsent} takes. */
export interface RecordConsentInput {
  /** The speaker saying they agree: mp3, wav, ogg, aac, flac, webm or mp4, at most 10 MiB. */
  recording: AudioInput;
  /** A label. */
  name: string;
  /** BCP 47 tag of what is said, e.g. `en-US`; the gateway's consent phrase is looked up by it. */
  language: string;
  /** File name sent with the recording. @default the File's name, else `"consent"` */
  filename?: string;
}

/** A synthesis whose audio arrives as it is generated. */
export interface SynthesisStream {
  /** Id of the whole clip, fetchable at `url` once the stream has ended. */
  audioId: string;
  /** `/audio/{audioId}`. */
  url: string;
  /** The stream's media type (`audio/aac`: ADTS frames). */
  mimeType: string;
  /**
   * The audio bytes, read as they arrive (no read-ahead: a slow reader slows the download).
   * A connection cut mid-stream errors it with an `ApiConnectionError`; cancelling it, or the
   * call's signal, ends the request and the gateway cancels the job.
   */
  body: ReadableStream<Uint8Array>;
}

/** The typed client: openapi-fetch's `GET`/`POST`/`DELETE`/`HEAD` over the gateway's paths, plus helpers. */
export interface CosyVoiceClient extends Client<paths> {
  /**
   * Saves a cloned voice from prompt audio (`POST /voices`, multipart).
   * @throws ApiError (e.g. 415 `not-audio`, 422 `invalid-audio`), ApiConnectionError, ApiUserAbortError
   * @example
   * const voice = await api.saveVoice({ audio: await readFile("me.wav"), name: "Me", promptText: "What I say in me.wav." });
   */
  saveVoice(input: SaveVoiceInput, options?: CallOptions): Promise<Voice>;
  /**
   * Records a speaker's consent (`POST /v1/audio/voice_consents`, OpenAI's shape); its `id` is
   * the `consent` of {@link saveVoice}. With a consent phrase set on the gateway the recording
   * must say it (a 400 quotes what was heard).
   * @throws ApiError (type `openai:<code>`, e.g. `openai:consent_phrase_not_heard`), ApiConnectionError, ApiUserAbortError
   * @example
   * const consent = await api.recordConsent({ recording: await readFile("consent.webm"), name: "Ann", language: "en-US" });
   * const voice = await api.saveVoice({ audio: await readFile("ann.wav"), name: "Ann", consent: consent.id });
   */
  recordConsent(input: RecordConsentInput, options?: CallOptions): Promise<VoiceConsent>;
  /**
   * Synthesizes a whole clip (`POST /synthesize` without streaming) and returns its stored
   * metadata; fetch the bytes from `url` (`GET /audio/{id}`).
   * @throws ApiError, ApiConnectionError, ApiUserAbortError
   * @example
   * const clip = await api.synthesize({ text: "Hello.", voice: "v_...", seed: 7 });
   * const { data } = await api.GET("/audio/{id}", { params: { path: { id: clip.id } }, parseAs: "blob" });
   */
  synthesize(request: Omit<SynthesizeRequest, "stream">, options?: CallOptions): Promise<SynthesisCreated>;
  /**
   * Starts a streamed synthesis (`POST /synthesize` with `stream: true`) and resolves once the
   * gateway has sent the first audio, with the bytes as a web ReadableStream.
   * @throws ApiError when the gateway refuses before any audio (400, 404, 422, 429, 503, ...)
   * @example
   * const s = await api.streamSynthesis({ text: "Hello.", voice: voice.id });
   * for await (const bytes of s.body) player.append(bytes);
   */
  streamSynthesis(request: Omit<SynthesizeRequest, "stream">, options?: CallOptions): Promise<SynthesisStream>;
}

/** The data of an openapi-fetch result, or its error thrown as an {@link ApiError}. */
type Result<T> = { data?: T; error?: unknown; response: Response };

/**
 * The `data` of an openapi-fetch result; an error response is thrown as an {@link ApiError}
 * with the typed problem.
 * @example const { voices } = unwrap(await api.GET("/voices"));
 */
export function unwrap<T>(result: Result<T>): T {
  if (!result.response.ok) throw apiError(result.response, result.error);
  return result.data as T;
}

function toBlob(audio: AudioInput): Blob {
  if (audio instanceof Blob) return audio;
  const view = audio instanceof ArrayBuffer ? new Uint8Array(audio) : new Uint8Array(audio.buffer, audio.byteOffset, audio.byteLength);
  // A copy into a plain ArrayBuffer: Blob parts may not be views of a SharedArrayBuffer.
  return new Blob([view.slice()]);
}

/** Wraps a body so its failures are the client's typed errors and reads pull one chunk at a time. */
function typedBody(body: ReadableStream<Uint8Array>, signal: AbortSignal | undefined): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (err) {
          controller.error(fetchFailure(err, signal));
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Creates the typed client. Every path, parameter, body and response (problems included) is
 * typed from `openapi.yaml`; network failures and aborts throw `ApiConnectionError` and
 * `ApiUserAbortError`. Works in browsers and Node 20+ (global fetch, FormData, Blob).
 * @example
 * import { createClient, unwrap } from "cosyvoice3-client";
 * const api = createClient({ baseUrl: "http://127.0.0.1:5000", apiKey: process.env.COSYVOICE_API_KEY });
 * const { data, error } = await api.GET("/voices/{id}", { params: { path: { id: "v_..." } } });
 * if (error) console.log(error.status, error.type); // typed Problem
 * const clip = unwrap(await api.POST("/synthesize", { body: { text: "Hello.", voice: data!.id } }));
 */
export function createClient(options: ClientOptions): CosyVoiceClient {
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey) headers["Authorization"] = `Bearer ${options.apiKey}`;
  const client = createFetchClient<paths>({
    baseUrl: options.baseUrl,
    headers,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const typedFailures: Middleware = {
    onError({ error, request }) {
      return fetchFailure(error, request.signal);
    },
  };
  client.use(typedFailures);

  async function saveVoice(input: SaveVoiceInput, call: CallOptions = {}): Promise<Voice> {
    const form = new FormData();
    form.set("name", input.name);
    if (input.promptText !== undefined) form.set("promptText", input.promptText);
    if (input.consent !== undefined) form.set("consent", input.consent);
    const file = toBlob(input.audio);
    form.set("audio", file, input.filename ?? (typeof File !== "undefined" && file instanceof File ? file.name : "prompt"));
    const result = await client.POST("/voices", {
      body: { name: input.name, audio: file, ...(input.promptText !== undefined ? { promptText: input.promptText } : {}), ...(input.consent !== undefined ? { consent: input.consent } : {}) },
      bodySerializer: () => form,
      ...(call.signal ? { signal: call.signal } : {}),
    });
    return unwrap(result);
  }

  async function recordConsent(input: RecordConsentInput, call: CallOptions = {}): Promise<VoiceConsent> {
    const form = new FormData();
    form.set("name", input.name);
    form.set("language", input.language);
    const file = toBlob(input.recording);
    form.set("recording", file, input.filename ?? (typeof File !== "undefined" && file instanceof File ? file.name : "consent"));
    const result = await client.POST("/v1/audio/voice_consents", {
      body: { name: input.name, language: input.language, recording: file },
      bodySerializer: () => form,
      ...(call.signal ? { signal: call.signal } : {}),
    });
    return unwrap(result);
  }

  async function synthesize(request: Omit<SynthesizeRequest, "stream">, call: CallOptions = {}): Promise<SynthesisCreated> {
    const result = await client.POST("/synthesize", {
      body: { ...request, stream: false },
      headers: { Accept: "application/json" },
      ...(call.signal ? { signal: call.signal } : {}),
    });
    const data = unwrap(result);
    if (result.response.status !== 201 || typeof data !== "object" || data === null || !("id" in data)) {
      throw new ApiError(result.response.status, { type: "about:blank", title: "The gateway did not answer with a stored clip", status: result.response.status });
    }
    return data;
  }

  async function streamSynthesis(request: Omit<SynthesizeRequest, "stream">, call: CallOptions = {}): Promise<SynthesisStream> {
    const result = await client.POST("/synthesize", {
      body: { ...request, stream: true },
      headers: { Accept: "audio/aac, application/problem+json" },
      parseAs: "stream",
      ...(call.signal ? { signal: call.signal } : {}),
    });
    const { response } = result;
    if (!response.ok) throw apiError(response, result.error);
    const audioId = response.headers.get("x-audio-id");
    if (response.status !== 200 || !result.data || !audioId) {
      await result.data?.cancel().catch(() => undefined);
      throw new ApiError(response.status, { type: "about:blank", title: "The gateway did not stream audio", status: response.status });
    }
    return {
      audioId,
      url: response.headers.get("content-location") ?? `/audio/${audioId}`,
      mimeType: (response.headers.get("content-type") ?? "audio/aac").split(";")[0]!.trim(),
      body: typedBody(result.data, call.signal),
    };
  }

  return Object.assign(client, { saveVoice, recordConsent, synthesize, streamSynthesis });
}
