import type { NextFunction, Request, Response } from "express";
import multer from "multer";
import { PROMPT_AUDIO_FORMATS, type PromptAudioIssue, type PromptAudioIssueCode } from "cosyvoice3-sdk";
import { missingFile } from "../http/issues.ts";
import { HttpProblem, type ProblemCode } from "../../doors/problems.ts";
import { sniffAudio } from "../../service/sniff-audio.ts";

/** Options of {@link uploadAudio}. */
export interface UploadAudioOptions {
  /** Largest accepted file. @unit bytes */
  maxBytes: number;
  /** The multipart field of the file. @default "audio" */
  field?: string;
}

/** Multer's limit errors, by code, as problems. */
const MULTER_ERRORS: Record<string, { code: ProblemCode; detail: (max: number) => string }> = {
  LIMIT_FILE_SIZE: { code: "payload_too_large", detail: (max) => `The audio file is larger than ${max} bytes` },
  LIMIT_PART_COUNT: { code: "invalid_request", detail: () => "Too many multipart parts" },
  LIMIT_FILE_COUNT: { code: "invalid_request", detail: () => "Send exactly one audio file" },
  LIMIT_FIELD_KEY: { code: "invalid_request", detail: () => "A field name is too long" },
  LIMIT_FIELD_VALUE: { code: "payload_too_large", detail: () => "A text field is too long" },
  LIMIT_FIELD_COUNT: { code: "invalid_request", detail: () => "Too many fields" },
  LIMIT_UNEXPECTED_FILE: { code: "invalid_request", detail: () => "Unexpected file field; send the file as `audio`" },
};

/**
 * The SDK's prompt-audio issues as problems: bytes that are not audio are 415, audio the UIs
 * cannot clone from (empty, under 16 kHz, over 30 s) is 422 with one `errors[]` entry per issue.
 */
const ISSUE_PROBLEM: Record<PromptAudioIssueCode, "not_audio" | "invalid_audio"> = {
  not_audio: "not_audio",
  empty: "invalid_audio",
  sample_rate: "invalid_audio",
  duration: "invalid_audio",
};

const FORMATS = PROMPT_AUDIO_FORMATS.map((f) => f.label).join(", ");

function refusal(issues: PromptAudioIssue[], field: string): HttpProblem {
  const notAudio = issues.find((i) => ISSUE_PROBLEM[i.code] === "not_audio");
  if (notAudio) return new HttpProblem("not_audio", { detail: `The file does not decode as audio (${FORMATS})` });
  return new HttpProblem("invalid_audio", {
    detail: issues.map((i) => i.message).join("; "),
    errors: issues.map((i) => ({ pointer: `/${field}`, code: i.code, detail: i.message })),
  });
}

/**
 * Accepts one audio file from a multipart body, in memory up to `maxBytes`, and checks it with
 * the SDK's `inspectPromptAudio` (see `sniffAudio`): `res.locals.upload` holds the checked audio, `req.body` the text fields.
 * 415 for a body that is not multipart or a file that is not audio, 413 over the cap, 422 for
 * audio the backend cannot use, 400 for a malformed or truncated body.
 * @example router.post("/voices", uploadAudio({ maxBytes: 10 * 2 ** 20 }), handler);
 */
export function uploadAudio(options: UploadAudioOptions) {
  const field = options.field ?? "audio";
  const parse = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: options.maxBytes, files: 1, fields: 8, fieldSize: 8 * 1024, parts: 10, headerPairs: 50 },
  }).single(field);

  return function uploadAudio(req: Request, res: Response, next: NextFunction): void {
    if (!req.is("multipart/form-data")) {
      return next(new HttpProblem("unsupported_media_type", { detail: `Send multipart/form-data with the file in the \`${field}\` field` }));
    }
    parse(req, res, (err: unknown) => {
      if (err) {
        const known = err instanceof multer.MulterError ? MULTER_ERRORS[err.code] : undefined;
        if (known) return next(new HttpProblem(known.code, { detail: known.detail(options.maxBytes), cause: err }));
        // busboy's own errors: a truncated or malformed multipart body.
        return next(new HttpProblem("invalid_request", { detail: "The multipart body is malformed or incomplete", cause: err }));
      }
      if (!req.file) {
        const error = missingFile(field, req.body);
        return next(new HttpProblem("invalid_request", { detail: error.detail, errors: [error] }));
      }
      sniffAudio(new Uint8Array(req.file.buffer.buffer, req.file.buffer.byteOffset, req.file.buffer.byteLength)).then(
        ({ audio, issues }) => {
          if (!audio) return next(refusal(issues, field));
          res.locals.upload = audio;
          next();
        },
        next,
      );
    });
  };
}
