/**
 * The shapes of `/jobs`: the request body (validated here, documented in OpenAPI from the same
 * schema) and the job as answered.
 */
import { InstructSchema, ModeSchema, SeedSchema, SpeedSchema } from "cosyvoice3-sdk";
import { z } from "zod";
import { JOB_FORMATS, JOB_STATUSES } from "../../jobs/model.ts";
import { unknownLanguageTags } from "../rest/schemas.ts";

/**
 * Body of `POST /jobs`; the text cap is the operator's MAX_JOB_CHARS.
 * @example CreateJobBodySchema(200_000).safeParse({ text: chapter, voice: "v_..." })
 */
export function CreateJobBodySchema(maxChars: number) {
  return z
    .object({
      text: z
        .string({ error: "text is required" })
        .refine((t) => t.trim() !== "", "text must not be empty")
        .refine((t) => t.length <= maxChars, `text must be at most ${maxChars} characters (MAX_JOB_CHARS)`)
        .superRefine((t, ctx) => {
          for (const { tag, suggestion } of unknownLanguageTags(t)) {
            ctx.addIssue({ code: "custom", message: `text has the unknown language tag ${tag}${suggestion ? ` (did you mean ${suggestion}?)` : ""}` });
          }
        })
        .describe(`The text to narrate (a chapter, a book), up to ${maxChars} characters; split at sentence ends (any script) into segments`),
      voice: z.string().min(1, "voice is required").max(200).describe("A voice id: a saved voice's `v_...` id, or `builtin:<speaker>`"),
      mode: ModeSchema.optional().describe("As for POST /synthesize (the default follows from the voice)"),
      instruct: InstructSchema.optional(),
      speed: SpeedSchema.optional(),
      seed: SeedSchema.optional().describe("Random seed: the same seed gives every segment the same timbre draw"),
      format: z.enum(JOB_FORMATS, { error: `format must be one of ${JOB_FORMATS.join(", ")}` }).optional().describe("The narration's audio format. Default mp3"),
      callbackUrl: z
        .string()
        .max(2_000)
        .optional()
        .describe("http(s) URL that receives job.succeeded, job.failed or job.canceled, signed per Standard Webhooks (needs WEBHOOK_SECRET; no private addresses unless WEBHOOK_ALLOW_PRIVATE)"),
    })
    .strict();
}

const iso = () => z.iso.datetime();
/** Segments and characters of one job: at most MAX_JOB_CHARS' own ceiling. */
const COUNT = { min: 0, max: 5_000_000 } as const;
/** A narration's length: a week of audio is more than any book. @unit milliseconds */
const NARRATION_MS = { min: 0, max: 604_800_000 } as const;
const count = () => z.number().int().min(COUNT.min).max(COUNT.max);

export const JobSchema = z
  .object({
    id: z.string().describe("`j_` + 22 characters"),
    status: z.enum(JOB_STATUSES),
    url: z.string().describe("/jobs/{id}"),
    segments: z.object({ done: count(), total: count() }).describe("Segments (one synthesis each) finished, of all"),
    characters: count().describe("Characters of text in the segments"),
    voice: z.string(),
    format: z.enum(JOB_FORMATS),
    createdAt: iso(),
    startedAt: iso().optional(),
    finishedAt: iso().optional(),
    durationMs: z.number().min(NARRATION_MS.min).max(NARRATION_MS.max).optional().describe("Length of the narration, in milliseconds (once succeeded)"),
    audioUrl: z.string().optional().describe("The narration (Range, ETag), once succeeded"),
    captionsUrl: z.string().optional().describe("WebVTT captions, one cue per sentence (`?format=srt` for SubRip), once succeeded"),
    expiresAt: iso().optional().describe("When the finished job and its outputs are deleted"),
    error: z.object({ type: z.string(), title: z.string(), status: z.number().int().min(400).max(599), detail: z.string().optional() }).optional().describe("Why it failed (a problem type)"),
  })
  .describe("A narration job");

export const JobAcceptedSchema = z.object({
  id: z.string(),
  status: z.literal("queued"),
  url: z.string(),
  segments: z.object({ done: z.number().int().min(0).max(0), total: count() }),
});

export const JobListSchema = z.object({
  jobs: z.array(JobSchema),
  next: z.string().optional().describe("Pass as `cursor` for the next page; absent on the last"),
});

export const JobListQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().regex(/^j_[A-Za-z0-9_-]{22}$/, "cursor is the `next` of the previous page").optional(),
  })
  .strict();
