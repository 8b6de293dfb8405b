/**
 * A narration job as it is persisted: what was asked, its plan (the segments), its state, and
 * each finished segment. One zod schema per record, so a store reads back only what it wrote.
 */
import { InstructSchema, ModeSchema } from "cosyvoice3-sdk";
import { z } from "zod";

export const JOB_STATUSES = ["queued", "running", "succeeded", "failed", "canceled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses a job never leaves. */
export const FINISHED: ReadonlySet<JobStatus> = new Set(["succeeded", "failed", "canceled"]);

/** Job ids: `j_` + 22 characters (128 random bits), as the other ids. */
export const JOB_ID = /^j_[A-Za-z0-9_-]{22}$/;

export const JOB_FORMATS = ["mp3", "opus", "aac", "flac", "wav"] as const;
export type JobFormat = (typeof JOB_FORMATS)[number];

const PlannedSegmentSchema = z.object({
  text: z.string(),
  speak: z.string(),
  sentences: z.array(z.object({ text: z.string(), sentence: z.number().int() })),
});

export const JobRecordSchema = z.object({
  id: z.string().regex(JOB_ID),
  owner: z.string(),
  status: z.enum(JOB_STATUSES),
  /** @unit milliseconds since the epoch */
  createdAt: z.number(),
  startedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  request: z.object({
    voice: z.string(),
    mode: ModeSchema.optional(),
    instruct: InstructSchema.optional(),
    speed: z.number().optional(),
    seed: z.number().optional(),
    format: z.enum(JOB_FORMATS),
    callbackUrl: z.string().optional(),
  }),
  /** The plan: each segment's text (exact slice of the input), what is spoken, and its sentences. */
  segments: z.array(PlannedSegmentSchema),
  /** Segments finished (persisted). */
  done: z.number().int().nonnegative(),
  /** The finished narration. */
  output: z
    .object({
      audioId: z.string(),
      mimeType: z.string(),
      bytes: z.number().int(),
      /** @unit milliseconds */
      durationMs: z.number(),
    })
    .optional(),
  error: z.object({ type: z.string(), title: z.string(), status: z.number().int(), detail: z.string().optional() }).optional(),
  webhook: z.object({ state: z.enum(["pending", "delivered", "failed"]), attempts: z.number().int() }).optional(),
  /** @unit milliseconds since the epoch */
  expiresAt: z.number().optional(),
});
export type JobRecord = z.infer<typeof JobRecordSchema>;

/** A finished segment: what its audio is (the PCM bytes are stored beside it). */
export const SegmentDoneSchema = z.object({
  index: z.number().int().nonnegative(),
  /** @unit hertz */
  sampleRate: z.number().int().positive(),
  /** Of its PCM (16-bit mono): exact, from the sample count. @unit milliseconds */
  durationMs: z.number().nonnegative(),
  /** The backend that made it (for logs and the bench). */
  backend: z.string(),
  /** How long its synthesis took, slot wait excluded where known. @unit milliseconds */
  synthMs: z.number().nonnegative(),
  /** @unit milliseconds since the epoch */
  finishedAt: z.number(),
});
export type SegmentDone = z.infer<typeof SegmentDoneSchema>;
