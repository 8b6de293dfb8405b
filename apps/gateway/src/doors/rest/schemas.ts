/**
 * The REST shapes, built from the SDK's zod schemas, so the routes' validation, the TypeScript
 * types and `openapi.yaml` come from one source.
 */
import { DIALECTS, InstructSchema, MAX_TEXT_CHARS, ModeSchema, PromptTextSchema, SeedSchema, SpeedSchema, TextSchema } from "cosyvoice3-sdk";
import { z } from "zod";
import { BYTES, CHUNKS, DURATION_MS, JOBS, RETRY_AFTER_SECONDS, SAMPLE_RATE, SPEAKERS } from "../openapi/bounds.ts";
import { AUDIO_FORMATS } from "../../service/encode/formats.ts";
import { describeIssues, nearest, summarise } from "../../platform/http/issues.ts";
import { HttpProblem, PROBLEM_TYPE_PREFIX } from "../problems.ts";
import { BACKEND_KINDS } from "../../backends/port.ts";

/**
 * The language tags CosyVoice's cross-lingual mode knows (design note, section 4), tag -> name.
 * A text may switch language with them, e.g. `<|en|>Hello.<|zh|>你好。`.
 */
export const LANGUAGE_TAGS = { zh: "Chinese", en: "English", ja: "Japanese", yue: "Cantonese", ko: "Korean" } as const;
export type LanguageTag = keyof typeof LANGUAGE_TAGS;
/** Special tokens a text may carry besides language tags. */
const OTHER_TOKENS = new Set(["endofprompt"]);
const TAG_ALIASES: Record<string, string> = { cn: "zh", zhcn: "zh", chinese: "zh", mandarin: "zh", jp: "ja", japanese: "ja", kr: "ko", korean: "ko", cantonese: "yue", hk: "yue", english: "en", eng: "en" };
const KNOWN_TAGS = Object.entries(LANGUAGE_TAGS).map(([t, name]) => `<|${t}|> (${name})`).join(", ");

/**
 * The `<|...|>` tags of a text that CosyVoice does not know, each with the tag it probably meant.
 * @example unknownLanguageTags("<|xx|>Hi <|cn|>你好") // [{ tag: "<|xx|>" }, { tag: "<|cn|>", suggestion: "<|zh|>" }]
 */
export function unknownLanguageTags(text: string): { tag: string; suggestion?: string }[] {
  const out: { tag: string; suggestion?: string }[] = [];
  for (const m of text.matchAll(/<\|([^|<>\s]{1,32})\|>/g)) {
    const name = m[1] ?? "";
    if (name in LANGUAGE_TAGS || OTHER_TOKENS.has(name)) continue;
    const guess = nearest(name, Object.keys(LANGUAGE_TAGS), TAG_ALIASES);
    out.push({ tag: m[0], ...(guess ? { suggestion: `<|${guess}|>` } : {}) });
  }
  return out;
}

/** Text that may switch language only with the tags CosyVoice knows. */
function withKnownTags<T extends z.ZodString>(text: T) {
  return text.superRefine((t, ctx) => {
    for (const { tag, suggestion } of unknownLanguageTags(t)) {
      ctx.addIssue({
        code: "custom",
        message: `text has the unknown language tag ${tag}${suggestion ? ` (did you mean ${suggestion}?)` : ""}; CosyVoice knows ${KNOWN_TAGS}`,
        params: { code: "unknown_language_tag" },
      });
    }
  });
}

/**
 * Body of `POST /synthesize`; the text cap is the operator's (never above the SDK's).
 * @example SynthesizeBodySchema(2000).safeParse({ text: "Hello.", voice: "v_..." })
 */
export function SynthesizeBodySchema(maxTextChars: number = MAX_TEXT_CHARS) {
  return z
    .object({
      text: withKnownTags(maxTextChars < MAX_TEXT_CHARS ? TextSchema.max(maxTextChars, `text must be at most ${maxTextChars} characters`) : TextSchema).describe(
        `${TextSchema.description ?? "Text to speak"} Language tags (cross-lingual): ${KNOWN_TAGS}; any other <|...|> tag is refused.`,
      ),
      voice: z
        .string()
        .min(1, "voice is required")
        .max(200)
        .describe("A voice id from GET /voices or POST /voices: a saved voice's `v_...` id, or `builtin:<speaker>` (CosyVoice 1 models only)"),
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
      format: z
        .enum(AUDIO_FORMATS, { error: `format must be one of ${AUDIO_FORMATS.join(", ")}` })
        .optional()
        .describe(
          "Audio format: streamed, the chunks encoded as they come (`Accept: audio/mpeg` and the other types do the same); stored, the 201's url serves the clip converted (`/audio/{id}?format=`). Default: streamed aac, stored wav",
        ),
    })
    .strict();
}
export type SynthesizeBody = z.infer<ReturnType<typeof SynthesizeBodySchema>>;

/** Text fields of `POST /voices` (the file goes in the `audio` field). */
export const CreateVoiceFieldsSchema = z
  .object({
    name: z.string().trim().min(1, "name is required").max(100).describe("A display name"),
    promptText: PromptTextSchema.optional().describe(
      "Transcript of the prompt audio; needed for clone mode. Empty means absent: with an ASR server (ASR_URL) the audio is transcribed, else (or when the ASR fails) the voice does cross-lingual and instruct",
    ),
    consent: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe("A consent id (`cons_...`, POST /v1/audio/voice_consents) of yours; required when VOICE_CONSENT=required"),
  })
  .strict();

export const CreateVoiceFormSchema = CreateVoiceFieldsSchema.extend({
  audio: z.string().describe("Prompt audio file: WAV, FLAC, Ogg, MP3 or M4A, at least 16 kHz, at most 30 s"),
});

/**
 * A form's text fields with the empty ones removed: browsers send every field of a form, an
 * empty one as `""`, which means "not given" (an empty `promptText` is a voice without one).
 * @example withoutEmptyFields({ name: "Ann", promptText: "  " }) // { name: "Ann" }
 */
export function withoutEmptyFields(fields: unknown): Record<string, unknown> {
  if (typeof fields !== "object" || fields === null) return {};
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => !(typeof v === "string" && v.trim() === "")));
}

export const VoiceKindSchema = z.enum(["builtin", "cloned"]).describe("`builtin`: a speaker of the model; `cloned`: saved from an upload");

const hertz = () => z.number().int().min(SAMPLE_RATE.min).max(SAMPLE_RATE.max).describe("Sample rate, in hertz");
const millis = (what: string) => z.number().min(DURATION_MS.min).max(DURATION_MS.max).describe(`${what}, in milliseconds`);
const byteCount = (what: string) => z.number().int().min(BYTES.min).max(BYTES.max).describe(`${what}, in bytes`);

export const VoiceSchema = z
  .object({
    id: z.string().describe("`builtin:<speaker>` or `v_` + 22 characters"),
    name: z.string(),
    kind: VoiceKindSchema,
    promptText: z.string().optional(),
    promptTextSource: z.enum(["client", "asr"]).optional().describe("Who wrote promptText: the client, or the ASR server (ASR_URL) from the prompt audio"),
    consent: z.string().optional().describe("The consent the voice was created under"),
    warning: z
      .string()
      .optional()
      .describe("Set on creation when the voice was saved without a transcript because the ASR server failed: it is usable for cross-lingual and instruct, not clone"),
    createdAt: z.iso.datetime().optional(),
    audio: z
      .object({
        mimeType: z.string(),
        sampleRate: hertz(),
        durationMs: millis("Length of the prompt audio"),
        bytes: byteCount("Size of the prompt audio file"),
      })
      .optional()
      .describe("The saved prompt audio (cloned voices)"),
  })
  .describe("A voice to synthesize with");
export type Voice = z.infer<typeof VoiceSchema>;

export const VoiceListSchema = z.object({ voices: z.array(VoiceSchema) });

export const SynthesisCreatedSchema = z.object({
  id: z.string().describe("Audio id (`a_` + 22 characters)"),
  url: z.string().describe("Where to fetch it: /audio/{id} (with ?format= when a format was asked for)"),
  mimeType: z.string().describe("audio/wav, or the asked format's"),
  bytes: byteCount("Size of the clip (in the asked format)"),
  sampleRate: hertz(),
  durationMs: millis("Length of the clip"),
  chunks: z.number().int().min(CHUNKS.min).max(CHUNKS.max).describe("Number of chunks (sentences) the model produced"),
  voice: z.string(),
  mode: ModeSchema,
  expiresAt: z.iso.datetime().describe("When the audio is deleted"),
});
export type SynthesisCreated = z.infer<typeof SynthesisCreatedSchema>;

const PROBLEM_TYPE_PATTERN = new RegExp("^" + PROBLEM_TYPE_PREFIX.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "[a-z-]+$");

export const ProblemSchema = z
  .object({
    type: z.string().regex(PROBLEM_TYPE_PATTERN).describe(`A URN naming the kind of problem: \`${PROBLEM_TYPE_PREFIX}<slug>\``),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string().optional(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z
      .array(
        z.object({
          pointer: z.string().describe("JSON pointer to the field (RFC 6901), e.g. `/instruct/emotion`"),
          detail: z.string().describe("What is wrong and how to fix it"),
          code: z.string().optional(),
        }),
      )
      .optional(),
    retryAfterSeconds: z.number().int().min(RETRY_AFTER_SECONDS.min).max(RETRY_AFTER_SECONDS.max).optional(),
  })
  .describe("RFC 9457 problem details");

export const HealthSchema = z.object({ status: z.literal("ok") });

export const BackendStatusSchema = z
  .object({
    name: z.string().describe("`backend-<n>` for the REST API's boxes (in the order of COSYVOICE_URL or the synthesis route), `asr` for ASR_URL, else the routes file's name for it (the URLs stay in the log, without credentials)"),
    kind: z
      .enum([...BACKEND_KINDS, "asr", "http"])
      .optional()
      .describe("The kind of server it is (named by its address's scheme or its door, or found by its first check); `http`: a routes-file service that is none of the others"),
    doors: z
      .array(z.enum(["rest", "v1", "jobs", "passthrough", "asr"]))
      .describe("The doors that send it work: `rest` and `v1` (the synthesis pool), `jobs` (narration), `passthrough` (a routes-file route), `asr` (transcripts)"),
    state: z.enum(["unknown", "up", "down"]).describe("`unknown` until its first check or job"),
    running: z.number().int().min(JOBS.min).max(JOBS.max).describe("Jobs running on it through this gateway instance"),
    waiting: z.number().int().min(JOBS.min).max(JOBS.max).describe("Jobs waiting for one of its slots"),
    checkedAt: z.iso.datetime().optional().describe("Its last health check"),
    error: z.string().optional().describe("While down: the problem slug of the last failure, e.g. `backend-unreachable`"),
    title: z.string().optional().describe("While down: what is wrong, naming its service, e.g. `The speech-recognition service is unreachable`"),
    breaker: z.enum(["closed", "half-open", "open"]).optional().describe("Its circuit breaker: `open` after repeated box faults (it gets no jobs), `half-open` while one probe job runs"),
  })
  .describe("One box (a GPU box, the ASR server, a routes-file service) as this gateway instance sees it, once whichever doors use it");

export const ReadySchema = z.object({
  status: z.literal("ready"),
  backends: z.array(BackendStatusSchema).describe("Every box once: the REST API's, the routes file's, the ASR server"),
  backend: z.object({
    kind: z.enum(BACKEND_KINDS).optional(),
    variant: z.string().describe("The web UI variant (Gradio), else the kind"),
    model: z.string(),
    gradioVersion: z.string().optional().describe("Gradio boxes only"),
    sampleRate: hertz().optional(),
    modes: z.array(ModeSchema),
    speakers: z.number().int().min(SPEAKERS.min).max(SPEAKERS.max).describe("Number of built-in speakers"),
  }).describe("The first ready backend: its voices and modes are the ones the gateway offers"),
});

/** A dialect's Chinese name, with or without 话, names its key. */
const DIALECT_ALIASES: Record<string, string> = Object.fromEntries(
  Object.entries(DIALECTS).flatMap(([key, zh]) => [[zh, key], [zh.replace(/话$/, ""), key]]),
);

/** Hints for values of the wrong type, by dotted path. */
const HINTS: Record<string, string> = {
  instruct: 'free text such as "Speak slowly and softly." or controls such as {"emotion": "happy"} (dialect, emotion, volume, pace, role)',
};

/**
 * Turns zod issues into problem `errors[]` entries with JSON pointers and messages that say how
 * to fix the field (see `issues.ts`). Pass the input and the schema for "required" and "did you
 * mean".
 * @example zodErrors(result.error, { input: body, schema }) // [{ pointer: "/speed", detail: "speed must be at most 2 (got 3)", code: "too_big" }]
 */
export function zodErrors(error: z.ZodError, opts: { input?: unknown; schema?: z.ZodType; prefix?: string } = {}): { pointer: string; detail: string; code: string }[] {
  return describeIssues(error, { hints: HINTS, valueAliases: DIALECT_ALIASES, ...opts }).map((e) => ({ pointer: e.pointer, detail: e.detail, code: e.code ?? "invalid" }));
}

/**
 * Parses with a schema, or throws the 400 `invalid-request` problem whose `detail` and `errors[]`
 * say what to fix.
 * @throws HttpProblem `invalid_request`
 * @example const body = parseOrThrow(SynthesizeBodySchema(), req.body);
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const errors = zodErrors(parsed.error, { input, schema });
  throw new HttpProblem("invalid_request", { detail: summarise(errors), errors });
}
