/**
 * `/v1/audio/voice_consents`: a speaker's recorded consent to having their voice cloned, as
 * OpenAI's API keeps them (create, list, retrieve, rename, delete). Each belongs to the key that
 * uploaded it; another key gets 404, as for voices. With an ASR server the recording is
 * transcribed, and with `CONSENT_PHRASE` it must say the phrase of its language (word by word,
 * with room for the recogniser's slips) or it is refused, quoting what was heard.
 */
import { inspectPromptAudio } from "cosyvoice3-sdk";
import { Router, type Request, type Response } from "express";
import type { z } from "zod";
import { matchPhrase, phraseFor } from "../../service/consent-phrase.ts";
import { AsrError } from "../../backends/asr/errors.ts";
import { titleForCode } from "../../backends/registry/services.ts";
import type { RouteContext } from "../../context.ts";
import { CONSENT_ID } from "../../platform/ids.ts";
import { callerOf } from "../../platform/middleware/api-keys.ts";
import { jsonBody } from "../../platform/middleware/json-body.ts";
import { methodNotAllowed } from "../../platform/middleware/problem-handler.ts";
import { mayAccess, type Caller } from "../../service/owners.ts";
import { HttpProblem } from "../problems.ts";
import { zodErrors } from "../rest/schemas.ts";
import type { ConsentRecord } from "../../platform/stores/consent-store.ts";
import { invalidParam } from "./errors.ts";
import { openAIForm } from "./form.ts";
import { ConsentListQuerySchema, CreateConsentFieldsSchema, RenameConsentSchema, type VoiceConsentSchema } from "./schemas.ts";

/** OpenAI's limit on a consent recording. @unit bytes */
export const MAX_RECORDING_BYTES = 10 * 1024 * 1024;

/** The recording formats OpenAI lists, by the type the bytes turn out to be. */
const RECORDING_TYPES = new Set(["audio/mpeg", "audio/wav", "audio/ogg", "audio/aac", "audio/flac", "audio/webm", "audio/mp4"]);
const RECORDING_LIST = "mp3, wav, ogg, aac, flac, webm or mp4";

/** The consent as OpenAI answers it, with what the ASR heard (our addition) when it was asked. */
export function consentObject(c: ConsentRecord): z.input<typeof VoiceConsentSchema> {
  return {
    object: "audio.voice_consent",
    id: c.id,
    name: c.name,
    language: c.language,
    created_at: Math.floor(c.createdAt / 1000),
    ...(c.transcript !== undefined ? { transcript: c.transcript } : {}),
  };
}

/**
 * @example router.use(consentRoutes(ctx));
 */
export function consentRoutes(ctx: RouteContext): Router {
  const { consents, asr, logger } = ctx.deps;
  const { auth, readLimit, uploadLimit } = ctx.guards;
  const phrases = ctx.config.consentPhrases;
  const router = Router();

  /** The caller's consent, or 404 (unknown, malformed, or another key's). */
  async function owned(id: string, caller: Caller): Promise<ConsentRecord> {
    const record = CONSENT_ID.test(id) ? await consents.get(id) : undefined;
    if (!record || !mayAccess(caller, record.owner)) {
      throw new HttpProblem("consent_not_found", { detail: `No voice consent ${JSON.stringify(id.slice(0, 100))} (GET /v1/audio/voice_consents lists yours)` });
    }
    return record;
  }

  /** What the ASR heard, checked against the phrase of the language when one is set. */
  async function hear(data: Uint8Array, format: { mimeType: string; ext: string }, language: string, res: Response): Promise<string | undefined> {
    const phrase = phraseFor(phrases, language);
    if (!asr) return undefined;
    let heard: string;
    try {
      heard = (await asr.transcribe({ data, ...format, language }, res.locals.signal ? { signal: res.locals.signal } : {})).text;
    } catch (err) {
      if (!(err instanceof AsrError)) throw err;
      if (phrase === undefined) {
        logger.warn({ requestId: res.locals.requestId, reason: err.reason, err: err.message }, "consent saved without a transcript: the ASR failed");
        return undefined;
      }
      if (err.reason === "empty") throw notHeard(phrase, "", language);
      // The server read the request and refused this file or language: sending it again will not help.
      if (err.reason === "refused") throw invalidParam("recording", `recording could not be checked against the consent phrase: ${err.message}`, "recording_not_transcribed");
      // The title names the box's service and what is wrong with it (unreachable, failed, ...).
      const title = titleForCode("asr", err.reason);
      throw new HttpProblem("asr_unavailable", {
        detail: `The consent recording cannot be checked against the consent phrase now: ${err.message}; nothing was saved, send it again later`,
        retryAfterSeconds: 10,
        cause: err,
        ...(title !== undefined ? { title } : {}),
      });
    }
    if (phrase !== undefined) {
      const m = matchPhrase(phrase, heard);
      logger.info({ requestId: res.locals.requestId, language, matched: m.matched, total: m.total, ok: m.ok }, "consent phrase checked");
      if (!m.ok) throw notHeard(phrase, heard, language, m.missing);
    }
    return heard;
  }

  router
    .route("/audio/voice_consents")
    .get(auth, readLimit, async (req: Request, res: Response) => {
      const query = ConsentListQuerySchema.safeParse(req.query);
      if (!query.success) throw new HttpProblem("invalid_request", { errors: zodErrors(query.error, { input: req.query, schema: ConsentListQuerySchema }) });
      const caller = callerOf(res);
      const page = await consents.list(caller.admin ? undefined : caller.owner, { limit: query.data.limit, ...(query.data.after !== undefined ? { after: query.data.after } : {}) });
      const data = page.data.map(consentObject);
      res.json({ object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: page.hasMore });
    })
    .post(auth, ctx.guards.scope("voices:write"), uploadLimit, openAIForm({ file: "recording", maxBytes: MAX_RECORDING_BYTES }), async (req: Request, res: Response) => {
      const fields = CreateConsentFieldsSchema.safeParse(req.body ?? {});
      if (!fields.success) throw new HttpProblem("invalid_request", { errors: zodErrors(fields.error, { input: req.body ?? {}, schema: CreateConsentFieldsSchema }) });
      const file = res.locals.formFile;
      if (!file) throw invalidParam("recording", "recording is required: the speaker's consent recording, as a multipart file field", "required");
      const found = await inspectPromptAudio(file.data, { name: file.name, mimeType: file.mimeType });
      // A consent is heard, not cloned from: the prompt limits (16 kHz, 30 s) do not apply.
      const unusable = found.issues.find((i) => i.code === "not_audio" || i.code === "empty");
      if (unusable || !found.format || !RECORDING_TYPES.has(found.format.mimeType)) {
        throw invalidParam("recording", `recording must be audio in ${RECORDING_LIST}${unusable ? ` (${unusable.message})` : found.format ? ` (got ${found.format.mimeType})` : ""}`, unusable?.code ?? "unsupported_format");
      }
      const transcript = await hear(file.data, found.format, fields.data.language, res);
      const record = await consents.create({
        owner: callerOf(res).owner,
        name: fields.data.name,
        language: fields.data.language,
        recording: { mimeType: found.format.mimeType, ext: found.format.ext, bytes: file.data.byteLength, ...(found.durationMs !== undefined ? { durationMs: found.durationMs } : {}) },
        ...(transcript !== undefined ? { transcript } : {}),
        data: file.data,
      });
      logger.info({ requestId: res.locals.requestId, consentId: record.id, language: record.language }, "voice consent recorded");
      res.json(consentObject(record));
    })
    .all(methodNotAllowed(["GET", "POST"]));

  router
    .route("/audio/voice_consents/:id")
    .get(auth, readLimit, async (req: Request<{ id: string }>, res: Response) => {
      res.json(consentObject(await owned(req.params.id, callerOf(res))));
    })
    .post(auth, ctx.guards.scope("voices:write"), uploadLimit, jsonBody({ maxBytes: 16 * 1024 }), async (req: Request<{ id: string }>, res: Response) => {
      const body = RenameConsentSchema.safeParse(req.body ?? {});
      if (!body.success) throw new HttpProblem("invalid_request", { errors: zodErrors(body.error, { input: req.body ?? {}, schema: RenameConsentSchema }) });
      const record = await owned(req.params.id, callerOf(res));
      const renamed = await consents.rename(record.id, body.data.name);
      if (!renamed) throw new HttpProblem("consent_not_found", { detail: `No voice consent ${JSON.stringify(record.id)}` });
      res.json(consentObject(renamed));
    })
    .delete(auth, ctx.guards.scope("voices:write"), uploadLimit, async (req: Request<{ id: string }>, res: Response) => {
      const record = await owned(req.params.id, callerOf(res));
      if (!(await consents.delete(record.id))) throw new HttpProblem("consent_not_found", { detail: `No voice consent ${JSON.stringify(record.id)}` });
      res.json({ id: record.id, deleted: true, object: "audio.voice_consent" });
    })
    .all(methodNotAllowed(["GET", "POST", "DELETE"]));

  return router;
}

/** A 400 (on /v1) about the recording, quoting the phrase and what was heard. */
function notHeard(phrase: string, heard: string, language: string, missing: string[] = []): HttpProblem {
  const detail =
    `recording does not say the consent phrase for ${language}: expected ${JSON.stringify(phrase)}, heard ${heard === "" ? "no words" : JSON.stringify(heard.slice(0, 500))}` +
    (missing.length > 0 ? `; not heard: ${missing.slice(0, 20).join(" ")}` : "");
  return new HttpProblem("consent_not_heard", { detail, errors: [{ pointer: "/recording", detail, code: "consent_phrase_not_heard" }] });
}
