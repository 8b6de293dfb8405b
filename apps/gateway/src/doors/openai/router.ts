/**
 * The `/v1` routes: OpenAI's speech API and the listings the clients around it read
 * (Open WebUI's `GET /audio/models` and `GET /audio/voices`), with OpenAI's error shape for
 * everything under `/v1`, unknown paths included.
 */
import { Router, type Request, type Response } from "express";
import type { z } from "zod";
import type { RouteContext } from "../../context.ts";
import { callerOf } from "../../platform/middleware/api-keys.ts";
import { refusalMetrics, type GatewayMetrics } from "../../platform/metrics/index.ts";
import { methodNotAllowed, notFound } from "../../platform/middleware/problem-handler.ts";
import { uploadAudio } from "../../platform/middleware/upload-audio.ts";
import { HttpProblem } from "../problems.ts";
import { zodErrors } from "../rest/schemas.ts";
import { openAIErrors } from "./errors.ts";
import { AudioModelListSchema, AudioVoiceListSchema, AudioVoiceSchema, CreateAudioVoiceFieldsSchema, ModelListSchema } from "./schemas.ts";
import { fromRouteContext, type SpeechService } from "./speech-service.ts";
import { speechHandlers } from "./speech.ts";
import { chooseVoice } from "./voice-choice.ts";

/** Model names OpenAI's clients offer; all of them are served by the backend's one model. */
const OPENAI_MODELS = ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"];

/** Options of {@link openAIRoutes}. */
export interface OpenAIRoutesOptions {
  /** The synthesis the routes call. @default the gateway's own, from `ctx` */
  speech?: SpeechService;
  /** Where refusals (rate limited, busy...) are counted, as for REST. @default not counted */
  metrics?: GatewayMetrics;
}

/**
 * @example app.use("/v1", openAIRoutes(ctx, { metrics }));
 */
export function openAIRoutes(ctx: RouteContext, options: OpenAIRoutesOptions = {}): Router {
  const speech = options.speech ?? fromRouteContext(ctx);
  const { auth, readLimit, uploadLimit } = ctx.guards;
  const aliases = ctx.config.voiceAliases;
  const models = [ctx.config.model, ...OPENAI_MODELS];
  // OpenAI's `created` is when the model was published; ours were there when we started.
  const created = Math.floor(ctx.deps.clock.now() / 1000);
  const model = (id: string) => ({ id, object: "model" as const, created, owned_by: "cosyvoice3-gateway" });
  const router = Router();

  router.route("/audio/speech").post(...speechHandlers(ctx, speech)).all(methodNotAllowed(["POST"]));

  router.route("/models").get(auth, readLimit, (_req: Request, res: Response) => {
    res.json({ object: "list", data: models.map(model) } satisfies z.input<typeof ModelListSchema>);
  }).all(methodNotAllowed(["GET"]));

  router.route("/models/:id").get(auth, readLimit, (req: Request<{ id: string }>, res: Response) => {
    if (!models.includes(req.params.id)) throw new HttpProblem("not_found", { detail: `No model ${JSON.stringify(req.params.id.slice(0, 200))}; GET /v1/models lists them (any name works for speech)` });
    res.json(model(req.params.id));
  }).all(methodNotAllowed(["GET"]));

  router.route("/audio/models").get(auth, readLimit, (_req: Request, res: Response) => {
    res.json({ models: models.map((id) => ({ id })) } satisfies z.input<typeof AudioModelListSchema>);
  }).all(methodNotAllowed(["GET"]));

  router
    .route("/audio/voices")
    .get(auth, readLimit, async (_req: Request, res: Response) => {
      const voices = await speech.voices(callerOf(res));
      const listed = voices.map((v) => ({ id: v.id, name: v.name }));
      // Aliases whose voice this caller can use, under the name the client will send back.
      for (const alias of Object.keys(aliases)) {
        const choice = chooseVoice(alias, voices, aliases);
        if (choice?.alias !== undefined) listed.push({ id: alias, name: `${alias} (${choice.voice.name})` });
      }
      res.json({ voices: listed } satisfies z.input<typeof AudioVoiceListSchema>);
    })
    .post(auth, ctx.guards.scope("voices:write"), uploadLimit, uploadAudio({ maxBytes: ctx.config.maxUploadBytes, field: "audio_sample" }), async (req: Request, res: Response) => {
      const fields = CreateAudioVoiceFieldsSchema.safeParse(req.body ?? {});
      if (!fields.success) throw new HttpProblem("invalid_request", { errors: zodErrors(fields.error, { input: req.body ?? {}, schema: CreateAudioVoiceFieldsSchema }) });
      const upload = res.locals.upload;
      if (!upload) throw new HttpProblem("invalid_request", { errors: [{ pointer: "/audio_sample", detail: "audio_sample (the voice's recording) is required", code: "required" }] });
      ctx.deps.logger.info({ requestId: res.locals.requestId, consent: fields.data.consent.slice(0, 200) }, "custom voice created with consent");
      const voice = await speech.createVoice(callerOf(res), {
        name: fields.data.name,
        ...(fields.data.prompt_text !== undefined ? { promptText: fields.data.prompt_text } : {}),
        upload,
      });
      res.json({ object: "audio.voice", id: voice.id, name: voice.name, created_at: Math.floor(ctx.deps.clock.now() / 1000) } satisfies z.input<typeof AudioVoiceSchema>);
    })
    .all(methodNotAllowed(["GET", "POST"]));

  router.use(notFound());
  if (options.metrics) router.use(refusalMetrics(options.metrics));
  router.use(openAIErrors({ logger: ctx.deps.logger }));
  return router;
}
