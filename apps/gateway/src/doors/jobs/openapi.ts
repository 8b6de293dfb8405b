/**
 * The `/jobs` part of the OpenAPI document (tag "jobs"), from the zod schemas the routes
 * validate with; its examples run as sent against the embedded default (see the examples test).
 */
import type { OpenApiBuilder, ResponseObject, ResponsesObject, SchemaObject } from "openapi3-ts/oas31";
import { z } from "zod";
import { PLACEHOLDER, REPLACE_VOICE } from "../openapi/examples.ts";
import type { ProblemStep } from "../problems.ts";
import type { JobView } from "../../jobs/view.ts";
import { CreateJobBodySchema, JobAcceptedSchema, JobListSchema, JobSchema } from "./schemas.ts";

/** The steps of each job operation (its documented problems are those of its steps). */
export const JOB_OPERATION_STEPS: Record<string, ProblemStep[]> = {
  createJob: ["auth", "scoped", "quota", "store", "params", "json", "body", "voice-id", "job-submit"],
  listJobs: ["auth", "quota", "store", "params"],
  getJob: ["auth", "quota", "store", "job-id"],
  deleteJob: ["auth", "quota", "store", "job-id"],
  jobEvents: ["auth", "quota", "store", "job-id"],
  jobCaptions: ["auth", "quota", "store", "params", "job-id", "job-output"],
};

function jsonSchema(schema: z.ZodType, io: "input" | "output"): SchemaObject {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest as SchemaObject;
}

const SAMPLE_JOB = "j_Qm9vSm9iSWQxMjM0NTY3OA";
const JOB_EXAMPLE: JobView = {
  id: SAMPLE_JOB,
  status: "succeeded",
  url: `/jobs/${SAMPLE_JOB}`,
  segments: { done: 42, total: 42 },
  characters: 10_214,
  voice: "v_3q2-7wEAAAB4AAAAAAAAAA",
  format: "mp3",
  createdAt: "2026-12-01T09:30:00.000Z",
  startedAt: "2026-12-01T09:30:00.120Z",
  finishedAt: "2026-12-01T09:41:12.800Z",
  durationMs: 694_310,
  audioUrl: "/audio/a_Yx9kT2mQvL0cR8nWbE4sJg",
  captionsUrl: `/jobs/${SAMPLE_JOB}/captions`,
  expiresAt: "2026-12-02T09:41:12.800Z",
};

const REPLACE_JOB = `Replace \`${PLACEHOLDER.job}\` with the \`id\` that POST /jobs answered.`;
const jobId = {
  name: "id",
  in: "path" as const,
  required: true,
  schema: { type: "string" as const, minLength: 1, maxLength: 300 },
  description: `Job id (\`j_...\`). ${REPLACE_JOB}`,
  example: PLACEHOLDER.job,
};

/**
 * Adds `/jobs` and its sub-resources.
 * @example addJobPaths(builder, { maxChars: 200_000, secured })
 */
export function addJobPaths(
  b: OpenApiBuilder,
  opts: {
    maxChars: number;
    secured: Record<string, string[]>[];
    /** The document's own helpers (the problem responses of an operation, a JSON response). */
    problems: (operationId: string, instance: string) => ResponsesObject;
    json: (name: string, description: string, example: unknown, headers?: ResponseObject["headers"]) => ResponseObject;
  },
): void {
  const { secured, problems, json } = opts;
  const at = `/jobs/${PLACEHOLDER.job}`;
  b.addSchema("CreateJobRequest", jsonSchema(CreateJobBodySchema(opts.maxChars), "input"))
    .addSchema("Job", jsonSchema(JobSchema, "output"))
    .addSchema("JobAccepted", jsonSchema(JobAcceptedSchema, "output"))
    .addSchema("JobList", jsonSchema(JobListSchema, "output"));
  b.addPath("/jobs", {
    post: {
      operationId: "createJob",
      tags: ["jobs"],
      summary: "Narrate a long text (a chapter, a book) as a background job",
      description:
        `${REPLACE_VOICE} ` +
        "Everything that would fail the whole job is checked now (voice, mode for that voice, text, callbackUrl, the segment quota): the job is then queued and answered 202 with its url. " +
        "The text is split at sentence ends in any script (CJK punctuation needs no spaces; long sentences at clauses) into segments, each one synthesis at a lower priority than interactive requests. " +
        "Each finished segment is persisted: a gateway that dies resumes the job from there (or, with STORE=redis, another instance does). " +
        "Follow it with GET /jobs/{id}/events (SSE) or GET /jobs/{id}; with `callbackUrl`, a signed webhook (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature) says job.succeeded, job.failed or job.canceled.",
      security: secured,
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: { $ref: "#/components/schemas/CreateJobRequest" },
            examples: {
              chapter: {
                summary: "A few paragraphs in MP3 (the voice's default mode)",
                value: { text: "Chapter one. The lighthouse stood on the rock for a hundred years. Every night its lamp turned, slow and patient.\n\nNobody remembered who lit it first.", voice: PLACEHOLDER.voice, format: "mp3", seed: 42 },
              },
              chinese: { summary: "Chinese, split at 。！？ without spaces", value: { text: "第一章。灯塔在礁石上站了一百年。每天夜里，它的灯都慢慢地转动。没有人记得是谁第一个点亮了它。", voice: PLACEHOLDER.voice, format: "wav" } },
            },
          },
        },
      },
      responses: {
        "202": json("JobAccepted", "Queued; follow it at `url` (also in Location)", { id: SAMPLE_JOB, status: "queued", url: `/jobs/${SAMPLE_JOB}`, segments: { done: 0, total: 42 } }, {
          Location: { description: "/jobs/{id}", schema: { type: "string" } },
        }),
        ...problems("createJob", "/jobs"),
      },
    },
    get: {
      operationId: "listJobs",
      tags: ["jobs"],
      summary: "The caller's jobs, newest first, by pages",
      security: secured,
      parameters: [
        { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
        { name: "cursor", in: "query", required: false, schema: { type: "string" }, description: "The `next` of the previous page" },
      ],
      responses: { "200": json("JobList", "A page of jobs", { jobs: [JOB_EXAMPLE] }), ...problems("listJobs", "/jobs") },
    },
  });
  b.addPath("/jobs/{id}", {
    parameters: [jobId],
    get: {
      operationId: "getJob",
      tags: ["jobs"],
      summary: "One job: its status, segments done of total, and once succeeded its audio and captions",
      security: secured,
      responses: { "200": json("Job", "The job", JOB_EXAMPLE), ...problems("getJob", at) },
    },
    delete: {
      operationId: "deleteJob",
      tags: ["jobs"],
      summary: "Delete a finished job, or cancel a queued or running one (its running segments are cancelled upstream)",
      security: secured,
      responses: {
        "204": { description: "The finished job was deleted" },
        "200": json("Job", "The job was queued or running and is now canceled", { ...JOB_EXAMPLE, status: "canceled", segments: { done: 17, total: 42 } }),
        ...problems("deleteJob", at),
      },
    },
  });
  b.addPath("/jobs/{id}/events", {
    parameters: [jobId],
    get: {
      operationId: "jobEvents",
      tags: ["jobs"],
      summary: "Server-sent events: `progress` (the job) as segments finish, then `end` (the job) and the stream closes",
      security: secured,
      responses: {
        "200": {
          description: "text/event-stream; each event's data is a Job. A reconnect starts with the job as it is now.",
          content: { "text/event-stream": { schema: { type: "string" }, example: `event: progress\ndata: ${JSON.stringify({ ...JOB_EXAMPLE, status: "running", segments: { done: 3, total: 42 } })}\n\n` } },
        },
        ...problems("jobEvents", `${at}/events`),
      },
    },
  });
  b.addPath("/jobs/{id}/captions", {
    parameters: [jobId],
    get: {
      operationId: "jobCaptions",
      tags: ["jobs"],
      summary: "Captions of a succeeded job: one cue per sentence, timed from each segment's real audio length; the last ends with the audio",
      security: secured,
      parameters: [{ name: "format", in: "query", required: false, schema: { type: "string", enum: ["vtt", "srt"], default: "vtt" }, description: "`srt` for SubRip" }],
      responses: {
        "200": {
          description: "WebVTT (text/vtt) or SubRip (application/x-subrip)",
          content: {
            "text/vtt": { schema: { type: "string" }, example: "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.830\nChapter one.\n" },
            "application/x-subrip": { schema: { type: "string" }, example: "1\n00:00:00,000 --> 00:00:01,830\nChapter one.\n" },
          },
        },
        ...problems("jobCaptions", `${at}/captions`),
      },
    },
  });
}
