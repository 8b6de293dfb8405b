import { Router, type Request, type Response } from "express";
import { callerOf } from "../../platform/middleware/api-keys.ts";
import { methodNotAllowed } from "../../platform/middleware/problem-handler.ts";
import { uploadAudio } from "../../platform/middleware/upload-audio.ts";
import type { RouteContext } from "../../context.ts";
import { HttpProblem } from "../problems.ts";
import { CreateVoiceFieldsSchema, parseOrThrow, withoutEmptyFields } from "./schemas.ts";
import { deleteVoice, findVoice, listVoices, savedVoice, type VoiceSources } from "../../service/voices.ts";

/**
 * `GET /voices`, `POST /voices` (clone by upload), `GET /voices/:id`, `DELETE /voices/:id`.
 * Saved voices belong to the caller who saved them: another owner's are never listed and are
 * 404 on every route.
 * @example app.use(voicesRoutes(ctx));
 */
export function voicesRoutes(ctx: RouteContext): Router {
  const { backend, voices } = ctx.deps;
  const { auth, readLimit, uploadLimit } = ctx.guards;
  const sources: VoiceSources = { voices, speakers: () => backend.listVoices() };
  const router = Router();

  router
    .route("/voices")
    .get(auth, readLimit, async (_req: Request, res: Response) => {
      res.json({ voices: await listVoices(callerOf(res), sources) });
    })
    .post(auth, ctx.guards.scope("voices:write"), uploadLimit, uploadAudio({ maxBytes: ctx.config.maxUploadBytes }), async (req: Request, res: Response) => {
      const fields = { data: parseOrThrow(CreateVoiceFieldsSchema, withoutEmptyFields(req.body)) };
      const upload = res.locals.upload;
      if (!upload) throw new HttpProblem("invalid_request", { errors: [{ pointer: "/audio", detail: "the audio file is required" }] });
      const record = await voices.create({
        owner: callerOf(res).owner,
        name: fields.data.name,
        ...(fields.data.promptText !== undefined ? { promptText: fields.data.promptText } : {}),
        audio: { mimeType: upload.mimeType, ext: upload.ext, bytes: upload.data.byteLength, sampleRate: upload.sampleRate, durationMs: upload.durationMs },
        data: upload.data,
      });
      res.status(201).location(`/voices/${record.id}`).json(savedVoice(record));
    })
    .all(methodNotAllowed(["GET", "POST"]));

  router
    .route("/voices/:id")
    .get(auth, readLimit, async (req: Request<{ id: string }>, res: Response) => {
      res.json(await findVoice(req.params.id, callerOf(res), sources));
    })
    .delete(auth, ctx.guards.scope("voices:write"), uploadLimit, async (req: Request<{ id: string }>, res: Response) => {
      await deleteVoice(req.params.id, callerOf(res), sources);
      res.status(204).end();
    })
    .all(methodNotAllowed(["GET", "DELETE"]));

  return router;
}
