/**
 * The `/v1` part of the OpenAPI document (tag "OpenAI"), from the same zod schemas the routes
 * validate with. Errors there are OpenAI's `{"error": {...}}`, not problem+json.
 */
import type { OpenApiBuilder, ResponseObject, SchemaObject } from "openapi3-ts/oas31";
import { z } from "zod";
import { RETRY_AFTER_SECONDS, SAMPLE_RATE } from "../openapi/bounds.ts";
import { AUDIO_FORMATS, FORMATS } from "../../service/encode/formats.ts";
import { PLACEHOLDER } from "../openapi/examples.ts";
import {
  AudioModelListSchema,
  AudioVoiceDeletedSchema,
  AudioVoiceListSchema,
  AudioVoiceSchema,
  ConsentListQuerySchema,
  CreateAudioVoiceFieldsSchema,
  CreateConsentFieldsSchema,
  ModelListSchema,
  OpenAIErrorSchema,
  RenameConsentSchema,
  SpeechBodySchema,
  SpeechEventSchema,
  VoiceConsentDeletedSchema,
  VoiceConsentListSchema,
  VoiceConsentSchema,
} from "./schemas.ts";

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
  404: "No such path, model, voice or consent of this key (NotFoundError)",
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
    .addSchema("AudioVoiceDeleted", jsonSchema(AudioVoiceDeletedSchema, "output"))
    .addSchema("VoiceConsent", jsonSchema(VoiceConsentSchema, "output"))
    .addSchema("VoiceConsentList", jsonSchema(VoiceConsentListSchema, "output"))
    .addSchema("VoiceConsentDeleted", jsonSchema(VoiceConsentDeletedSchema, "output"))
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
        "opus in Ogg; aac as ADTS; flac and wav with unknown length, since their headers are written before the audio exists (ffprobe shows duration 0; decoders play them whole); a FLAC known whole, answered from the synthesis cache, is complete, as is GET /audio/{X-Audio-Id}?format=flac; pcm raw s16le mono at `X-Sample-Rate`). An input longer than the backend's text limit is cut at sentence ends into several jobs, " +
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
    description: `The voice's recording (WAV, FLAC, Ogg, MP3, M4A, AAC, WebM), at least 16 kHz, at most 30 s, at most ${config.maxUploadBytes} bytes`,
  };
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
      description:
        "`consent` is the id of one of your voice consents (POST /v1/audio/voice_consents), required unless VOICE_CONSENT=optional. " +
        "Without `prompt_text` (our extension), the gateway's ASR server (ASR_URL) transcribes `audio_sample` so the voice can do 3-second cloning; " +
        "when the ASR fails the voice is still saved (usable for cross-lingual and instruct) and `warning` says why. `type: \"prompt\"` is a 400 naming `type`: CosyVoice clones from audio and cannot design a voice from a description.",
      security: secured,
      requestBody: {
        required: true,
        content: {
          "multipart/form-data": {
            schema: { ...form, required: ["name", "audio_sample"] },
            examples: {
              consent: { summary: "With a consent id (replace it with yours)", value: { name: "Ann", consent: PLACEHOLDER.consent } },
              transcript: { summary: "With the sample's transcript (no ASR needed)", value: { name: "Ann", consent: PLACEHOLDER.consent, prompt_text: "I like long walks on the beach." } },
            },
          },
        },
      },
      responses: { "200": json("AudioVoice", "The saved voice; its id works as `voice` (or `{id}`) here and on /synthesize"), ...errors([400, 401, 403, 413, 429, 503]) },
    },
  });
  const idParam = (example: string) => [{ name: "id", in: "path" as const, required: true, schema: { type: "string" as const }, example }];
  b.addPath("/v1/audio/voices/{id}", {
    parameters: idParam(PLACEHOLDER.voice),
    delete: {
      tags: [TAG],
      operationId: "openaiDeleteVoice",
      summary: "Delete a custom voice (the same saved voice REST DELETE /voices/{id} deletes); its consent stays",
      security: secured,
      responses: { "200": json("AudioVoiceDeleted", "`{id, deleted: true, object: \"audio.voice.deleted\"}`"), ...errors([401, 403, 404, 409, 429]) },
    },
  });
  const consentForm = jsonSchema(CreateConsentFieldsSchema, "input");
  (consentForm.properties as Record<string, SchemaObject>)["recording"] = {
    type: "string",
    contentMediaType: "application/octet-stream",
    description: "The speaker saying they agree to the voice being made: mp3, wav, ogg, aac, flac, webm or mp4, at most 10 MiB. With CONSENT_PHRASE it must say that phrase (checked by the ASR server)",
  };
  (consentForm["required"] as string[] | undefined)?.push("recording");
  b.addPath("/v1/audio/voice_consents", {
    get: {
      tags: [TAG],
      operationId: "openaiListVoiceConsents",
      summary: "Your voice consents, newest first (OpenAI's cursor list)",
      security: secured,
      parameters: Object.entries((jsonSchema(ConsentListQuerySchema, "input").properties ?? {}) as Record<string, SchemaObject>).map(([name, schema]) => ({ name, in: "query" as const, required: false, schema })),
      responses: { "200": json("VoiceConsentList", "`{object: \"list\", data, first_id, last_id, has_more}`; pass `after=<last_id>` for the next page"), ...errors([400, 401, 429]) },
    },
    post: {
      tags: [TAG],
      operationId: "openaiCreateVoiceConsent",
      summary: "Record a speaker's consent (multipart name, language, recording)",
      description:
        "With an ASR server (ASR_URL) the recording is transcribed (`transcript`); with CONSENT_PHRASE set for the language (BCP 47: exact tag, then its primary language, then `*`), " +
        "the recording must say it, word by word with room for recognition slips, or it is a 400 naming `recording` that quotes what was heard. If the ASR server is down then, 503 (nothing saved; resend).",
      security: secured,
      requestBody: { required: true, content: { "multipart/form-data": { schema: consentForm, example: { name: "Ann's consent", language: "en-US" } } } },
      responses: { "200": json("VoiceConsent", "The consent; its id is the `consent` of POST /v1/audio/voices"), ...errors([400, 401, 403, 413, 429, 503]) },
    },
  });
  b.addPath("/v1/audio/voice_consents/{id}", {
    parameters: idParam(PLACEHOLDER.consent),
    get: { tags: [TAG], operationId: "openaiGetVoiceConsent", summary: "One of your voice consents", security: secured, responses: { "200": json("VoiceConsent", "The consent"), ...errors([401, 404, 429]) } },
    post: {
      tags: [TAG],
      operationId: "openaiRenameVoiceConsent",
      summary: "Rename a voice consent",
      security: secured,
      requestBody: { required: true, content: { "application/json": { schema: jsonSchema(RenameConsentSchema, "input"), example: { name: "Ann (signed 2026-12-03)" } } } },
      responses: { "200": json("VoiceConsent", "The renamed consent"), ...errors([400, 401, 403, 404, 429]) },
    },
    delete: {
      tags: [TAG],
      operationId: "openaiDeleteVoiceConsent",
      summary: "Delete a voice consent (voices made under it stay)",
      security: secured,
      responses: { "200": json("VoiceConsentDeleted", "`{id, deleted: true, object: \"audio.voice_consent\"}`"), ...errors([401, 403, 404, 429]) },
    },
  });
}
