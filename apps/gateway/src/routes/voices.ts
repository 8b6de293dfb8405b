import { Router, type Request, type Response } from "express";
import { methodNotAllowed } from "../middleware/problem-handler.ts";
import { uploadAudio } from "../middleware/upload-audio.ts";
import type { RouteContext } from "../context.ts";
import { BUILTIN_PREFIX, SAVED_VOICE_ID } from "../ids.ts";
import { HttpProblem } from "../problems.ts";
import { CreateVoiceFieldsSchema, parseOrThrow, withoutEmptyFields } from "../schemas.ts";
import { builtinVoice, findVoice, savedVoice } from "../voices.ts";

/**
 * `GET /voices`, `POST /voices` (clone by upload), `GET /voices/:id`, `DELETE /voices/:id`.
 * @example app.use(voicesRoutes(ctx));
 */
export function voicesRoutes(ctx: RouteContext): Router {
  const { backend, voices } = ctx.deps;
  const { auth, readLimit, uploadLimit } = ctx.guards;
  const router = Router();

  router
    .route("/voices")
    .get(auth, readLimit, async (_req: Request, res: Response) => {
      const [speakers, saved] = await Promise.all([backend.listVoices(), voices.list()]);
      res.json({ voices: [...speakers.filter((s) => s !== "").map(builtinVoice), ...saved.map(savedVoice)] });
    })
    .post(auth, uploadLimit, uploadAudio({ maxBytes: ctx.config.maxUploadBytes }), async (req: Request, res: Response) => {
      const fields = { data: parseOrThrow(CreateVoiceFieldsSchema, withoutEmptyFields(req.body)) };
      const upload = res.locals.upload;
      if (!upload) throw new HttpProblem("invalid_request", { errors: [{ pointer: "/audio", detail: "the audio file is required" }] });
      const record = await voices.create({
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
      res.json(await findVoice(req.params.id, ctx.deps));
    })
    .delete(auth, uploadLimit, async (req: Request<{ id: string }>, res: Response) => {
      const id = req.params.id;
      if (id.startsWith(BUILTIN_PREFIX)) {
        await findVoice(id, ctx.deps);
        throw new HttpProblem("voice_read_only", { detail: "Built-in voices belong to the model and cannot be deleted" });
      }
      if (!SAVED_VOICE_ID.test(id) || !(await voices.delete(id))) {
        throw new HttpProblem("voice_not_found", { detail: `No voice with id ${JSON.stringify(id.slice(0, 200))}` });
      }
      res.status(204).end();
    })
    .all(methodNotAllowed(["GET", "DELETE"]));

  return router;
}
