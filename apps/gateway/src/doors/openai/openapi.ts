/**
 * The `/v1` part of the OpenAPI document (tag "OpenAI"), from the same zod schemas the routes
 * validate with. Errors there are OpenAI's `{"error": {...}}`, not problem+json.
 */
import type { OpenApiBuilder, ResponseObject, SchemaObject } from "openapi3-ts/oas31";
import { z } from "zod";
import { RETRY_AFTER_SECONDS, SAMPLE_RATE } from "../openapi/bounds.ts";
import { AUDIO_FORMATS, FORMATS } from "../../service/encode/formats.ts";
import { PLACEHOLDER } from "../openapi/examples.ts";
import { AudioModelListSchema, AudioVoiceListSchema, AudioVoiceSchema, CreateAudioVoiceFieldsSchema, ModelListSchema, OpenAIErrorSchema, SpeechBodySchema, SpeechEventSchema } from "./schemas.ts";

const TAG = "OpenAI";

function jsonSchema(schema: z.ZodType, io: "input" | "output"): SchemaObject {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest as SchemaObject;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const header = (description: string, schema: SchemaObject = { type: "string" }) => ({ description, schema });

/** What each error status means on `/v1` (the OpenAI clients' error class in brackets). */
const ERRORS: Record<number, string> = {
  400: "Invalid request (BadRequestError): `param` names the field (`input`, `voice` with the voices you can use, `instructions` with why they cannot be followed, `speed`, `response_format`...)",
  401: "A valid API key or token is required (AuthenticationError): send it as the client's apiKey (`Authorization: Bearer <key>`)",
  403: "The token's scope does not allow this (PermissionDeniedError): `synthesize` for speech, `voices:write` to create a voice",
  404: "No such path or model (NotFoundError)",
  413: "The body or the uploaded file is too large",
  429: "Quota used up (RateLimitError); Retry-After says when to retry",
  500: "Internal error or the audio could not be encoded; `x-should-retry: false`",
  502: "The CosyVoice backend failed or is unreachable; `x-should-retry: false` when the job may have run",
  503: "Every job slot or encoder is taken, or the backend is not ready (Retry-After; `x-should-retry: true`: nothing ran)",
  504: "The backend did not finish in time; the job was cancelled (`x-should-retry: false`)",
};

function errors(codes: number[]): Record<string, ResponseObject> {
  const out: Record<string, ResponseObject> = {};
  for (const c of [...codes, 500]) {
    out[String(c)] = {
      description: ERRORS[c] ?? "Error",
      content: { "application/json": { schema: ref("OpenAIError") } },
      headers: {
        ...(c === 429 || c === 503 ? { "Retry-After": header("Seconds to wait before retrying", { type: "integer", minimum: RETRY_AFTER_SECONDS.min, maximum: RETRY_AFTER_SECONDS.max }) } : {}),
        ...(c >= 500 || c === 429 ? { "x-should-retry": header("`true` when resending cannot run the same job twice, `false` when it may have run") } : {}),
      },
    };
  }
  return out;
}

const json = (name: string, description: string): ResponseObject => ({ description, content: { "application/json": { schema: ref(name) } } });

const REPLACE = `Replace \`${PLACEHOLDER.voice}\` with a voice id (or name) from GET /v1/audio/voices, or an alias from VOICE_ALIASES.`;

/** Request bodies of `POST /v1/audio/speech`, as OpenAI's clients send them (the first is Swagger UI's default). */
const SPEECH_EXAMPLES = {
  mp3: { summary: "What Open WebUI sends (MP3, the default)", value: { model: "tts-1", voice: PLACEHOLDER.voice, input: "Hello! This is my cloned voice speaking." } },
  instructions: {
    summary: "Instructions (an instruct job), Ogg Opus",
    value: { model: "gpt-4o-mini-tts", voice: PLACEHOLDER.voice, input: "Take a deep breath and relax.", instructions: "Speak slowly and softly.", response_format: "opus" },
  },
  sse: { summary: "Server-sent events with base64 audio", value: { model: "tts-1", voice: { id: PLACEHOLDER.voice }, input: "One sentence. And another.", response_format: "aac", stream_format: "sse" } },
};

/**
 * Adds the `/v1` paths and their schemas to a document.
 * @example addOpenAIPaths(builder, { maxUploadBytes: 10 * 2 ** 20 });
 */
export function addOpenAIPaths(b: OpenApiBuilder, config: { maxUploadBytes: number }): void {
  const secured = [{ bearer: [] }, {}];
  b.addTag({
    name: TAG,
    description:
      "OpenAI's speech API (`POST /v1/audio/speech`) and the listings its clients read, for Open WebUI, SillyTavern, LibreChat, Home Assistant and the official `openai` clients (base URL `<gateway>/v1`). " +
      "Errors are `{\"error\": {\"message\", \"type\", \"param\", \"code\"}}`.",
  })
    .addSchema("SpeechRequest", jsonSchema(SpeechBodySchema, "input"))
    .addSchema("SpeechEvent", jsonSchema(SpeechEventSchema, "output"))
    .addSchema("ModelList", jsonSchema(ModelListSchema, "output"))
    .addSchema("AudioModelList", jsonSchema(AudioModelListSchema, "output"))
    .addSchema("AudioVoiceList", jsonSchema(AudioVoiceListSchema, "output"))
    .addSchema("AudioVoice", jsonSchema(AudioVoiceSchema, "output"))
    .addSchema("OpenAIError", jsonSchema(OpenAIErrorSchema, "output"));

  const audio: Record<string, { schema: SchemaObject }> = {};
  for (const f of AUDIO_FORMATS) {
    const type = FORMATS[f].mimeType.split(";")[0] ?? FORMATS[f].mimeType;
    audio[type] = { schema: { type: "string", contentMediaType: type, description: `response_format ${f}` } };
  }
  b.addPath("/v1/audio/speech", {
    post: {
      tags: [TAG],
      operationId: "openaiCreateSpeech",
      summary: "Speak text (OpenAI's text-to-speech)",
      description:
        "Streams the audio as it is generated, chunked: the backend's chunks are encoded by one ffmpeg per response (mp3 without Xing/ID3 headers, so separately requested pieces concatenate; " +
        "opus in Ogg; aac as ADTS; flac and wav with unknown length; pcm raw s16le mono at `X-Sample-Rate`). An input longer than the backend's text limit is cut at sentence ends into several jobs, " +
        "streamed back to back in one file. `instructions` makes it an instruct job (the cv3-en UI with a saved voice, CosyVoice 1 with a built-in speaker), or a 400 saying why not. " +
        "An error after the first bytes cuts the connection (an SSE stream ends with an `error` event). " +
        REPLACE,
      security: secured,
      requestBody: { required: true, content: { "application/json": { schema: ref("SpeechRequest"), examples: SPEECH_EXAMPLES } } },
      responses: {
        "200": {
          description: "The audio, or with `stream_format: \"sse\"` a text/event-stream of SpeechEvent (`data: {...}` lines)",
          headers: { "X-Sample-Rate": header("Sample rate of the audio (for pcm, the only place it is said)", { type: "integer", minimum: SAMPLE_RATE.min, maximum: SAMPLE_RATE.max }) },
          content: { ...audio, "text/event-stream": { schema: ref("SpeechEvent") } },
        },
        ...errors([400, 401, 403, 413, 429, 502, 503, 504]),
      },
    },
  });
  b.addPath("/v1/models", {
    get: { tags: [TAG], operationId: "openaiListModels", summary: "Model names (any name works for speech)", security: secured, responses: { "200": json("ModelList", "OpenAI's model list"), ...errors([401, 429]) } },
  });
  b.addPath("/v1/models/{id}", {
    parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" }, example: "tts-1" }],
    get: { tags: [TAG], operationId: "openaiGetModel", summary: "One model", security: secured, responses: { "200": { description: "The model", content: { "application/json": { schema: { type: "object" } } } }, ...errors([401, 404, 429]) } },
  });
  b.addPath("/v1/audio/models", {
    get: { tags: [TAG], operationId: "openaiListAudioModels", summary: "Speech models, as Open WebUI lists them", security: secured, responses: { "200": json("AudioModelList", "`{models: [{id}]}`"), ...errors([401, 429]) } },
  });
  const form = jsonSchema(CreateAudioVoiceFieldsSchema, "input");
  (form.properties as Record<string, SchemaObject>)["audio_sample"] = {
    type: "string",
    contentMediaType: "application/octet-stream",
    description: `The voice's recording (WAV, FLAC, Ogg, MP3 or M4A), at least 16 kHz, at most 30 s, at most ${config.maxUploadBytes} bytes`,
  };
  (form["required"] as string[] | undefined)?.push("audio_sample");
  b.addPath("/v1/audio/voices", {
    get: {
      tags: [TAG],
      operationId: "openaiListVoices",
      summary: "The caller's voices and the configured aliases, as Open WebUI lists them",
      security: secured,
      responses: { "200": json("AudioVoiceList", "`{voices: [{id, name}]}`: built-in speakers, saved voices, then aliases (VOICE_ALIASES)"), ...errors([401, 429, 502]) },
    },
    post: {
      tags: [TAG],
      operationId: "openaiCreateVoice",
      summary: "Create a custom voice (OpenAI's multipart form): one of our saved voices",
      security: secured,
      requestBody: {
        required: true,
        content: { "multipart/form-data": { schema: form, example: { name: "Ann", consent: "cons_1234", prompt_text: "I like long walks." } } },
      },
      responses: { "200": json("AudioVoice", "The saved voice; its id works as `voice` here and on /synthesize"), ...errors([400, 401, 403, 413, 429]) },
    },
  });
}
