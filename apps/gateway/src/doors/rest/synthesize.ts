import { Router, type Request, type Response } from "express";
import { callerOf } from "../../platform/middleware/api-keys.ts";
import { clientSignal } from "../../platform/middleware/client-signal.ts";
import { jsonBody } from "../../platform/middleware/json-body.ts";
import { methodNotAllowed } from "../../platform/middleware/problem-handler.ts";
import type { RouteContext } from "../../context.ts";
import { synthesisOffer } from "../../platform/http/negotiate.ts";
import { HttpProblem } from "../problems.ts";
import { parseOrThrow, SynthesizeBodySchema, type SynthesisCreated } from "./schemas.ts";
import type { StoredClip } from "../../service/synthesis/service.ts";
import { clipConverter } from "../../service/encode/converted-clips.ts";
import { expectedRate, poolSourceFormat } from "../../service/encode/encoded-stream.ts";
import { reserveAudioResponse } from "../../service/respond/audio-response.ts";

/** The 201 body of a stored clip. */
function created(clip: StoredClip): SynthesisCreated {
  return {
    id: clip.id,
    url: `/audio/${clip.id}`,
    mimeType: clip.mimeType,
    bytes: clip.bytes,
    sampleRate: clip.sampleRate ?? 0,
    durationMs: clip.durationMs,
    chunks: clip.chunks,
    voice: clip.voice,
    mode: clip.mode,
    expiresAt: new Date(clip.expiresAt).toISOString(),
  };
}

/**
 * `POST /synthesize`: validates the body and hands it to the synthesis service, then answers
 * 201 with the stored clip's id, or streams AAC chunks (or, with `format` or an `Accept` of
 * another audio type, those chunks encoded as they come) with the id in `X-Audio-Id`.
 * @example app.use(synthesizeRoutes(ctx));
 */
export function synthesizeRoutes(ctx: RouteContext): Router {
  const { config } = ctx;
  const { synthesis, encoders, backend, audio } = ctx.deps;
  const converter = clipConverter({ audio, encoders, logger: ctx.deps.logger });
  const bodySchema = SynthesizeBodySchema(config.maxTextChars);
  const router = Router();

  async function synthesize(req: Request, res: Response): Promise<void> {
    const { stream, format: asked, ...body } = parseOrThrow(bodySchema, req.body);
    const signal = res.locals.signal;
    if (!signal) throw new HttpProblem("internal");
    // Planned once: the voice, the mode and the request; bad input is refused here, before any box.
    const plan = await synthesis.plan({ ...callerOf(res), ...body }, { signal });
    const offer = synthesisOffer(req.get("accept"), stream);
    if (offer.stream) {
      // The body's format is explicit, so it wins over the one Accept picked.
      const format = asked ?? offer.audioFormat ?? "aac";
      const from = poolSourceFormat(backend.backends());
      // The rate matters for priming an AAC encoder only; a pool not yet known is not asked here
      // (asking would connect to its boxes before the job, and mark a refusing one down outside
      // the job's own failover).
      const info = from === "aac" && format !== "aac" ? await backend.info().catch(() => undefined) : undefined;
      // Reserved before the job starts: every encoder busy is a 503 that ran nothing.
      const answer = reserveAudioResponse(res, {
        encoders,
        format,
        from,
        expected: info ? expectedRate(info) : expectedRate({ model: config.model }),
        signal,
        // A client that stops reading (but stays) is given one job's time to go on.
        drainTimeoutMs: config.upstreamTimeoutMs,
        headers: () => ({
          "X-Audio-Id": s.id,
          // The stored clip is the backend's AAC; in another format it is served converted.
          "Content-Location": `/audio/${s.id}${format === "aac" ? "" : `?format=${format}`}`,
        }),
      });
      const s = synthesis.stream(plan, { signal });
      await answer.send(s);
      return;
    }
    const clip = await synthesis.synthesize(plan, { signal });
    const body201 = created(clip);
    if (asked !== undefined && asked !== "wav") {
      // The clip in the asked format, converted now (so the 201 tells its size) and kept.
      const meta = await audio.stat(clip.id);
      if (!meta) throw new HttpProblem("audio_not_found", { detail: "The clip expired before it could be converted" });
      const copy = await converter.convert(meta, asked);
      Object.assign(body201, { url: `/audio/${clip.id}?format=${asked}`, mimeType: copy.mimeType, bytes: copy.bytes, sampleRate: copy.sampleRate ?? body201.sampleRate });
    }
    // Not res.json(): Express would hash the body for an ETag, which means nothing on a 201 and
    // cost about 0.1 ms per request in the benchmark (Node sets the Content-Length itself).
    res.status(201).location(body201.url).type("application/json").end(JSON.stringify(body201));
  }

  router
    .route("/synthesize")
    .post(ctx.guards.auth, ctx.guards.scope("synthesize"), ctx.guards.synthesizeLimit, jsonBody({ maxBytes: config.maxJsonBytes }), clientSignal(), synthesize)
    .all(methodNotAllowed(["POST"]));
  return router;
}
