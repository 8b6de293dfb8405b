import { once } from "node:events";
import { Router, type Request, type Response } from "express";
import { callerOf } from "../middleware/api-keys.ts";
import { clientSignal } from "../middleware/client-signal.ts";
import { jsonBody } from "../middleware/json-body.ts";
import { methodNotAllowed } from "../middleware/problem-handler.ts";
import type { RouteContext } from "../context.ts";
import { synthesisOffer } from "../http/negotiate.ts";
import { HttpProblem } from "../problems.ts";
import { parseOrThrow, SynthesizeBodySchema, type SynthesisCreated } from "../schemas.ts";
import type { StoredClip, SynthesisStream } from "../synthesis/service.ts";

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
 * Writes a synthesis stream as chunked `audio/aac`. Headers wait for the first chunk, so
 * anything that fails before audio exists is still a proper problem response; a failure after
 * it cuts the connection (the problem handler destroys a started response).
 */
async function writeStream(s: SynthesisStream, res: Response): Promise<void> {
  const chunks = s[Symbol.asyncIterator]();
  let finished = false;
  try {
    let next = await chunks.next();
    res.status(200).set({
      "Content-Type": "audio/aac",
      "Cache-Control": "no-store",
      "X-Audio-Id": s.id,
      "Content-Location": `/audio/${s.id}`,
      "X-Accel-Buffering": "no",
    });
    while (!next.done) {
      if (!res.write(next.value.data)) await once(res, "drain", { signal: s.signal }).catch(() => {
        throw s.signal.reason;
      });
      // The service stores the clip before it reports done, so the id answers once the client has the last byte.
      next = await chunks.next();
    }
    finished = true;
    res.end();
  } finally {
    if (!finished) await chunks.return?.(undefined).catch(() => undefined);
  }
}

/**
 * `POST /synthesize`: validates the body and hands it to the synthesis service, then answers
 * 201 with the stored clip's id, or streams AAC chunks as they are generated with the id in
 * `X-Audio-Id`.
 * @example app.use(synthesizeRoutes(ctx));
 */
export function synthesizeRoutes(ctx: RouteContext): Router {
  const { config } = ctx;
  const { synthesis } = ctx.deps;
  const bodySchema = SynthesizeBodySchema(config.maxTextChars);
  const router = Router();

  async function synthesize(req: Request, res: Response): Promise<void> {
    const { stream, ...body } = parseOrThrow(bodySchema, req.body);
    const signal = res.locals.signal;
    if (!signal) throw new HttpProblem("internal");
    const input = { ...callerOf(res), ...body };
    if (synthesisOffer(req.get("accept"), stream).stream) {
      await writeStream(synthesis.stream(input, { signal }), res);
      return;
    }
    const body201 = created(await synthesis.synthesize(input, { signal }));
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
