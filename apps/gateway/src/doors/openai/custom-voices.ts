/**
 * OpenAI's custom voices: `POST /v1/audio/voices` (multipart `name`, `audio_sample`, `consent`)
 * and `DELETE /v1/audio/voices/{id}`. A voice made here is one of our saved voices: the same
 * record, the same id on REST `/voices` and `/synthesize`. OpenAI's API has no transcript field,
 * so a sample without our `prompt_text` is transcribed by the ASR box (see `saveVoice`).
 *
 * `type: "prompt"` (a voice designed from a text description) is refused with a 400 naming
 * `type`: CosyVoice clones voices from audio and has no voice-design model. Its instruct mode is
 * no substitute (CosyVoice 3's `instruct2` still needs a voice's prompt audio; CosyVoice 1's
 * needs a built-in speaker, and would make every "designed" voice the same speaker), and OpenAI
 * itself serves prompt voices only in its Live API, not in `/v1/audio/speech`. Delivery is
 * steered per request with `instructions` instead.
 */
import type { Request, RequestHandler, Response } from "express";
import type { z } from "zod";
import type { RouteContext } from "../../context.ts";
import { callerOf } from "../../platform/middleware/api-keys.ts";
import { HttpProblem } from "../problems.ts";
import { zodErrors } from "../rest/schemas.ts";
import { sniffAudio } from "../../service/sniff-audio.ts";
import { saveVoice } from "../../service/voice-create.ts";
import { deleteVoice, type VoiceSources } from "../../service/voices.ts";
import { invalidParam } from "./errors.ts";
import { openAIForm } from "./form.ts";
import { CreateAudioVoiceFieldsSchema, type AudioVoiceDeletedSchema, type AudioVoiceSchema } from "./schemas.ts";

/** Why `type: "prompt"` is refused, as the 400 says it. */
export const PROMPT_VOICE_REFUSAL =
  'type "prompt" (a voice designed from a text description) is not available here: CosyVoice clones voices from recorded audio and has no voice-design model ' +
  "(OpenAI serves prompt voices only in its Live API, not in /v1/audio/speech either). Create the voice from a recording: type audio_sample with audio_sample and consent; " +
  "to steer how a voice speaks, send instructions with /v1/audio/speech";

/**
 * The middleware chains of `POST /v1/audio/voices` and `DELETE /v1/audio/voices/{id}`.
 * @example const voices = customVoiceHandlers(ctx); router.route("/audio/voices").post(...voices.create);
 */
export function customVoiceHandlers(ctx: RouteContext): { create: RequestHandler[]; remove: RequestHandler[] } {
  const { auth, uploadLimit } = ctx.guards;
  const { voices, backend, logger } = ctx.deps;
  const sources: VoiceSources = { voices, speakers: () => backend.listVoices() };

  const create: RequestHandler[] = [
    auth,
    ctx.guards.scope("voices:write"),
    uploadLimit,
    openAIForm({ file: "audio_sample", maxBytes: ctx.config.maxUploadBytes, json: true }),
    async function createVoice(req: Request, res: Response) {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const fields = CreateAudioVoiceFieldsSchema.safeParse(body);
      if (!fields.success) throw new HttpProblem("invalid_request", { errors: zodErrors(fields.error, { input: body, schema: CreateAudioVoiceFieldsSchema }) });
      const f = fields.data;
      if (f.type === "prompt" || (f.type === undefined && f.prompt !== undefined && !res.locals.formFile)) throw invalidParam("type", PROMPT_VOICE_REFUSAL, "unsupported_voice_type");
      const file = res.locals.formFile;
      if (!file) {
        const sentAsText = typeof body["audio_sample"] === "string";
        throw invalidParam("audio_sample", sentAsText ? "audio_sample arrived as text, not as a file: send the recording itself as a multipart file field" : "audio_sample is required: the voice's recording, as a multipart file field", sentAsText ? "file_sent_as_text" : "required");
      }
      const sniffed = await sniffAudio(file.data);
      if (!sniffed.audio) {
        const notAudio = sniffed.issues.find((i) => i.code === "not_audio");
        const message = notAudio ? "audio_sample does not decode as audio (WAV, FLAC, Ogg, MP3, M4A, AAC, WebM)" : `audio_sample cannot be cloned from: ${sniffed.issues.map((i) => i.message).join("; ")}`;
        throw invalidParam("audio_sample", message, notAudio ? "not_audio" : (sniffed.issues[0]?.code ?? "invalid_audio"));
      }
      const { record, warning } = await saveVoice(
        { config: ctx.config, voices, consents: ctx.deps.consents, asr: ctx.deps.asr, logger },
        {
          caller: callerOf(res),
          door: "v1",
          name: f.name,
          promptText: f.prompt_text,
          consent: f.consent,
          upload: sniffed.audio,
          requestId: res.locals.requestId,
          ...(res.locals.signal ? { signal: res.locals.signal } : {}),
        },
      );
      res.json({
        object: "audio.voice",
        id: record.id,
        name: record.name,
        type: "audio_sample",
        created_at: Math.floor(Date.parse(record.createdAt) / 1000),
        prompt_text: record.promptText ?? null,
        ...(warning !== undefined ? { warning } : {}),
      } satisfies z.input<typeof AudioVoiceSchema>);
    },
  ];

  const remove: RequestHandler[] = [
    auth,
    ctx.guards.scope("voices:write"),
    uploadLimit,
    async function deleteCustomVoice(req: Request, res: Response) {
      const id = String(req.params["id"]);
      await deleteVoice(id, callerOf(res), sources);
      res.json({ id, deleted: true, object: "audio.voice.deleted" } satisfies z.input<typeof AudioVoiceDeletedSchema>);
    },
  ];
  return { create, remove };
}
