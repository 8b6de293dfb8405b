/**
 * The REST shapes, built from the SDK's zod schemas, so the routes' validation, the TypeScript
 * types and `openapi.yaml` come from one source.
 */
import { InstructSchema, MAX_TEXT_CHARS, ModeSchema, PromptTextSchema, SeedSchema, SpeedSchema, TextSchema } from "cosyvoice3-sdk";
import { z } from "zod";
import { PROBLEM_TYPE_PREFIX } from "./problems.ts";

/**
 * Body of `POST /synthesize`; the text cap is the operator's (never above the SDK's).
 * @example SynthesizeBodySchema(2000).safeParse({ text: "Hello.", voice: "v_..." })
 */
export function SynthesizeBodySchema(maxTextChars: number = MAX_TEXT_CHARS) {
  return z
    .object({
      text: maxTextChars < MAX_TEXT_CHARS ? TextSchema.max(maxTextChars, `text must be at most ${maxTextChars} characters`) : TextSchema,
      voice: z
        .string()
        .min(1, "voice is required")
        .max(200)
        .describe("A voice id from GET /voices: `builtin:<speaker>` or a saved voice's `v_...` id"),
      mode: ModeSchema.optional().describe(
        "Synthesis mode. Default: `pretrained` for a built-in voice; `instruct` when `instruct` is given; `clone` for a saved voice with promptText, else `crossLingual`",
      ),
      instruct: InstructSchema.optional(),
      speed: SpeedSchema.optional(),
      seed: SeedSchema.optional(),
      stream: z
        .boolean()
        .optional()
        .describe("Send the audio as it is generated (audio/aac, chunked) instead of a 201 with its id. `Accept: audio/aac` does the same"),
    })
    .strict();
}
export type SynthesizeBody = z.infer<ReturnType<typeof SynthesizeBodySchema>>;

/** Text fields of `POST /voices` (the file goes in the `audio` field). */
export const CreateVoiceFieldsSchema = z
  .object({
    name: z.string().trim().min(1, "name is required").max(100).describe("A display name"),
    promptText: PromptTextSchema.optional().describe(
      "Transcript of the prompt audio; needed for clone mode (without it the voice does cross-lingual and instruct)",
    ),
  })
  .strict();

export const CreateVoiceFormSchema = CreateVoiceFieldsSchema.extend({
  audio: z.string().describe("Prompt audio file: WAV, FLAC, Ogg, MP3 or M4A, at least 16 kHz, at most 30 s"),
});

export const VoiceKindSchema = z.enum(["builtin", "cloned"]).describe("`builtin`: a speaker of the model; `cloned`: saved from an upload");

export const VoiceSchema = z
  .object({
    id: z.string().describe("`builtin:<speaker>` or `v_` + 22 characters"),
    name: z.string(),
    kind: VoiceKindSchema,
    promptText: z.string().optional(),
    createdAt: z.iso.datetime().optional(),
    audio: z
      .object({
        mimeType: z.string(),
        sampleRate: z.number().int().describe("@unit hertz"),
        durationMs: z.number().describe("@unit milliseconds"),
        bytes: z.number().int(),
      })
      .optional()
      .describe("The saved prompt audio (cloned voices)"),
  })
  .describe("A voice to synthesize with");
export type Voice = z.infer<typeof VoiceSchema>;

export const VoiceListSchema = z.object({ voices: z.array(VoiceSchema) });

export const SynthesisCreatedSchema = z.object({
  id: z.string().describe("Audio id (`a_` + 22 characters)"),
  url: z.string().describe("Where to fetch it: /audio/{id}"),
  mimeType: z.string().describe("audio/wav"),
  bytes: z.number().int(),
  sampleRate: z.number().int().describe("@unit hertz"),
  durationMs: z.number().describe("@unit milliseconds"),
  chunks: z.number().int().describe("Number of chunks (sentences) the model produced"),
  voice: z.string(),
  mode: ModeSchema,
  expiresAt: z.iso.datetime().describe("When the audio is deleted"),
});
export type SynthesisCreated = z.infer<typeof SynthesisCreatedSchema>;

export const ProblemSchema = z
  .object({
    type: z.string().startsWith(PROBLEM_TYPE_PREFIX),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string().optional(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z
      .array(z.object({ pointer: z.string().describe("JSON pointer to the field"), detail: z.string(), code: z.string().optional() }))
      .optional(),
    retryAfterSeconds: z.number().int().optional(),
  })
  .describe("RFC 9457 problem details");

export const HealthSchema = z.object({ status: z.literal("ok") });

export const BackendStatusSchema = z
  .object({
    name: z.string().describe("`backend-<n>`, numbered in the order of COSYVOICE_URL (the URLs stay in the log)"),
    state: z.enum(["unknown", "up", "down"]).describe("`unknown` until its first check or job"),
    running: z.number().int().describe("Jobs running on it through this gateway instance"),
    waiting: z.number().int().describe("Jobs waiting for one of its slots"),
    checkedAt: z.iso.datetime().optional().describe("Its last health check"),
    error: z.string().optional().describe("While down: the problem slug of the last failure, e.g. `backend-unreachable`"),
    breaker: z.enum(["closed", "half-open", "open"]).optional().describe("Its circuit breaker: `open` after repeated box faults (it gets no jobs), `half-open` while one probe job runs"),
  })
  .describe("One CosyVoice backend as this gateway instance sees it");

export const ReadySchema = z.object({
  status: z.literal("ready"),
  backends: z.array(BackendStatusSchema).describe("Every configured backend, checked just now"),
  backend: z.object({
    variant: z.string(),
    model: z.string(),
    gradioVersion: z.string(),
    sampleRate: z.number().int().optional(),
    modes: z.array(ModeSchema),
    speakers: z.number().int().describe("Number of built-in speakers"),
  }).describe("The first ready backend: its voices and modes are the ones the gateway offers"),
});

/**
 * Turns zod issues into problem `errors[]` entries with JSON pointers.
 * @example zodErrors(result.error) // [{ pointer: "/speed", detail: "Too big: expected number to be <=2", code: "too_big" }]
 */
export function zodErrors(error: z.ZodError, prefix = ""): { pointer: string; detail: string; code: string }[] {
  return error.issues.map((i) => ({
    pointer: prefix + i.path.map((p) => "/" + String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join(""),
    detail: i.message,
    code: i.code,
  }));
}
