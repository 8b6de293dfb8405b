/**
 * The bodies of OpenAI's multipart calls (`voice_consents`, `voices`): text fields and at most
 * one file, the file optional here (whether it is required depends on other fields, e.g.
 * `type: "prompt"` has none). `POST /v1/audio/voices` may also come as JSON (OpenAI accepts a
 * prompt voice either way), so JSON is parsed too. The file is only read here; what it must be
 * is each route's business.
 */
import type { NextFunction, Request, Response } from "express";
import multer from "multer";
import { jsonBody } from "../../platform/middleware/json-body.ts";
import { HttpProblem } from "../problems.ts";

/** Options of {@link openAIForm}. */
export interface OpenAIFormOptions {
  /** The multipart field of the file. */
  file: string;
  /** Largest file. @unit bytes */
  maxBytes: number;
  /** Also take `application/json` (no file then). @default false */
  json?: boolean;
}

/** The parsed form: `req.body` has the text fields. */
export interface OpenAIFormFile {
  data: Uint8Array;
  /** As the client declared it (the bytes decide the format). */
  mimeType: string;
  name: string;
}

const MULTER_ERRORS: Record<string, (o: OpenAIFormOptions) => HttpProblem> = {
  LIMIT_FILE_SIZE: (o) => new HttpProblem("payload_too_large", { detail: `${o.file} is larger than ${o.maxBytes} bytes`, errors: [{ pointer: `/${o.file}`, code: "file_too_large", detail: `${o.file} is larger than ${o.maxBytes} bytes (${(o.maxBytes / 2 ** 20).toFixed(0)} MiB)` }] }),
  LIMIT_UNEXPECTED_FILE: (o) => new HttpProblem("invalid_request", { detail: `Unexpected file field; send the file as \`${o.file}\``, errors: [{ pointer: `/${o.file}`, code: "unexpected_file", detail: `send the file as ${o.file}, and only that file` }] }),
  LIMIT_FILE_COUNT: (o) => new HttpProblem("invalid_request", { detail: "Send one file", errors: [{ pointer: `/${o.file}`, code: "too_many_files", detail: `send exactly one ${o.file}` }] }),
};

/**
 * @example router.post("/audio/voice_consents", openAIForm({ file: "recording", maxBytes: 10 * 2 ** 20 }), handler);
 */
export function openAIForm(options: OpenAIFormOptions) {
  const parse = multer({ storage: multer.memoryStorage(), limits: { fileSize: options.maxBytes, files: 1, fields: 16, fieldSize: 16 * 1024, parts: 20, headerPairs: 50 } }).single(options.file);
  const json = jsonBody({ maxBytes: 64 * 1024 });
  return function openAIForm(req: Request, res: Response, next: NextFunction): void {
    if (options.json && req.is("application/json")) return json(req, res, next);
    if (!req.is("multipart/form-data")) {
      return next(new HttpProblem("unsupported_media_type", { detail: `Send multipart/form-data${options.json ? " (or JSON)" : ""} with the file in the \`${options.file}\` field` }));
    }
    parse(req, res, (err: unknown) => {
      if (err) {
        const known = err instanceof multer.MulterError ? MULTER_ERRORS[err.code] : undefined;
        if (known) return next(known(options));
        if (err instanceof multer.MulterError) return next(new HttpProblem("invalid_request", { detail: `The form is not accepted: ${err.message}`, cause: err }));
        return next(new HttpProblem("invalid_request", { detail: "The multipart body is malformed or incomplete", cause: err }));
      }
      if (req.file) {
        const f = req.file;
        res.locals.formFile = { data: new Uint8Array(f.buffer.buffer, f.buffer.byteOffset, f.buffer.byteLength), mimeType: f.mimetype, name: f.originalname };
      }
      next();
    });
  };
}
