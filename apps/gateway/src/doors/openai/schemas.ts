/**
 * The shapes of OpenAI's speech API as we accept and answer them: the one source for the
 * route's validation, the OpenAPI document and the tests' contract checks.
 */
import { SpeedSchema } from "cosyvoice3-sdk";
import { z } from "zod";
import { UNIX_SECONDS, USAGE_TOKENS } from "../openapi/bounds.ts";
import { AUDIO_FORMATS } from "../../service/encode/formats.ts";

const tokens = () => z.number().int().min(USAGE_TOKENS.min).max(USAGE_TOKENS.max);

/** OpenAI's own limit on `input` and on `instructions`. @unit characters */
export const OPENAI_MAX_INPUT_CHARS = 4096;

/** Clients send `null` for a field they leave unset (e.g. LibreChat, Home Assistant). */
const optional = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined);

const speedRange = SpeedSchema.minValue !== null && SpeedSchema.maxValue !== null ? `${SpeedSchema.minValue} to ${SpeedSchema.maxValue}` : "0.5 to 2.0";

/**
 * `POST /v1/audio/speech`. Unknown fields are ignored (stripped), as OpenAI's clients send
 * extras (LibreChat's `backend`, Home Assistant's user options).
 */
export const SpeechBodySchema = z.object({
  model: optional(z.string().max(200))
    .describe("Any model name is accepted (`tts-1`, `tts-1-hd`, `gpt-4o-mini-tts`, `cosyvoice3`...): the gateway serves the model its backend runs"),
  input: z
    .string({ error: "input is required" })
    .max(OPENAI_MAX_INPUT_CHARS, `input must be at most ${OPENAI_MAX_INPUT_CHARS} characters`)
    .describe(`Text to speak, at most ${OPENAI_MAX_INPUT_CHARS} characters. Longer than the backend's limit, it is cut at sentence ends into several jobs, streamed back to back`),
  voice: z
    .union([z.string().trim().min(1, "voice must not be empty").max(200), z.object({ id: z.string().min(1).max(200) })], {
      error: "voice is required: a voice id or name, an alias such as alloy, or { \"id\": ... }",
    })
    .describe("A saved voice's id (`v_...`) or name, a built-in speaker (`builtin:<name>` or the bare name), an alias from VOICE_ALIASES (e.g. `alloy`), or `{ \"id\": ... }`"),
  instructions: optional(z.string().max(OPENAI_MAX_INPUT_CHARS))
    .describe("Natural-language control of the delivery (CosyVoice instruct mode). Refused with 400, never ignored, where the backend or voice cannot follow it"),
  response_format: optional(z.enum(AUDIO_FORMATS, { error: `response_format must be one of ${AUDIO_FORMATS.join(", ")}` }))
    .describe("Audio format (default mp3). `opus` is Ogg Opus, `aac` is ADTS, `pcm` is 16-bit little-endian mono at the model's rate (header X-Sample-Rate)"),
  // The range is documented (meta) but checked in speech.ts, whose 400 names OpenAI's wider range.
  speed: optional(z.number({ error: "speed must be a number" }).meta({ minimum: SpeedSchema.minValue ?? 0.5, maximum: SpeedSchema.maxValue ?? 2 }))
    .describe(`Speaking speed, ${speedRange} (CosyVoice's range; OpenAI allows 0.25 to 4, outside ours is a 400)`),
  stream_format: optional(z.enum(["audio", "sse"], { error: "stream_format must be audio or sse" }))
    .describe("`audio` (default): the audio bytes, chunked as they are encoded. `sse`: speech.audio.delta events (base64 of the format) and a final speech.audio.done with usage"),
});
export type SpeechBody = z.output<typeof SpeechBodySchema>;

/** `GET /v1/models` (OpenAI's model list). */
export const ModelListSchema = z.object({
  object: z.literal("list"),
  data: z.array(z.object({ id: z.string(), object: z.literal("model"), created: z.number().int().min(UNIX_SECONDS.min).max(UNIX_SECONDS.max), owned_by: z.string() })),
});

/** `GET /v1/audio/models`, as Open WebUI reads it. */
export const AudioModelListSchema = z.object({ models: z.array(z.object({ id: z.string(), name: z.string().optional() })) });

/** `GET /v1/audio/voices`, as Open WebUI reads it. */
export const AudioVoiceListSchema = z.object({ voices: z.array(z.object({ id: z.string(), name: z.string() })) });

/** Text fields of `POST /v1/audio/voices` (OpenAI's custom voice; the file is `audio_sample`). */
export const CreateAudioVoiceFieldsSchema = z.object({
  name: z.string({ error: "name is required" }).trim().min(1, "name is required").max(100),
  consent: z
    .string({ error: "consent is required: the id of the speaker's recorded consent, or a statement that you have it" })
    .trim()
    .min(1, "consent is required")
    .max(200),
  prompt_text: optional(z.string().trim().min(1).max(500)).describe(
    "Our extension: the transcript of audio_sample, which makes the voice usable for 3-second cloning (without it, cross-lingual and instruct only)",
  ),
});

/** What `POST /v1/audio/voices` answers: OpenAI's voice object, with our voice id. */
export const AudioVoiceSchema = z.object({
  object: z.literal("audio.voice"),
  id: z.string().describe("A saved voice id (`v_...`), usable as `voice` here and on our REST API"),
  name: z.string(),
  created_at: z.number().int().min(UNIX_SECONDS.min).max(UNIX_SECONDS.max).describe("Unix seconds"),
});

/** Every `/v1` error. */
export const OpenAIErrorSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});

/** The events of `stream_format: "sse"`. */
export const SpeechEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("speech.audio.delta"), audio: z.string().describe("Base64 of the next bytes of the requested format") }),
  z.object({
    type: z.literal("speech.audio.done"),
    usage: z
      .object({ input_tokens: tokens(), output_tokens: tokens(), total_tokens: tokens() })
      .describe("input_tokens: characters of input (CosyVoice has no shared text tokenizer); output_tokens: speech tokens at CosyVoice's 25 per second"),
  }),
  z.object({ type: z.literal("error"), error: OpenAIErrorSchema.shape.error }),
]);
