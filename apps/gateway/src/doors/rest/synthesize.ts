import { once } from "node:events";
import { Router, type Request, type Response } from "express";
import { callerOf } from "../../platform/middleware/api-keys.ts";
import { clientSignal } from "../../platform/middleware/client-signal.ts";
import { jsonBody } from "../../platform/middleware/json-body.ts";
import { methodNotAllowed } from "../../platform/middleware/problem-handler.ts";
import type { RouteContext } from "../../context.ts";
import { synthesisOffer } from "../../platform/http/negotiate.ts";
import { HttpProblem } from "../problems.ts";
import { parseOrThrow, SynthesizeBodySchema, type SynthesisCreated } from "./schemas.ts";
import type { StoredClip, SynthesisStream } from "../../service/synthesis/service.ts";
import { clipConverter } from "../../service/encode/converted-clips.ts";
import { encodedStream, expectedRate, poolSourceFormat, type EncodedStream } from "../../service/encode/encoded-stream.ts";
import type { AudioFormat, SourceFormat } from "../../service/encode/formats.ts";

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
 * Writes a synthesis stream as chunked audio: the backend's AAC as it comes, or encoded to
 * another format as it comes. Headers wait for the first bytes, so anything that fails before
 * audio exists is still a proper problem response; a failure after it cuts the connection (the
 * problem handler destroys a started response).
 */
async function writeStream(s: SynthesisStream, res: Response, format: AudioFormat = "aac", encoded?: { stream: EncodedStream; drainSignal: () => AbortSignal }): Promise<void> {
  const bytes = encoded ? encoded.stream[Symbol.asyncIterator]() : aacOf(s);
  // The job's own signal ends with the job; an encoder still flushing after it needs another.
  const drainSignal = encoded?.drainSignal ?? (() => s.signal);
  let finished = false;
  try {
    let next = await bytes.next();
    res.status(200).set({
      "Content-Type": encoded?.stream.mimeType ?? "audio/aac",
      "Cache-Control": "no-store",
      "X-Audio-Id": s.id,
      // The stored clip is the backend's AAC; in another format it is served converted.
      "Content-Location": `/audio/${s.id}${format === "aac" ? "" : `?format=${format}`}`,
      "X-Accel-Buffering": "no",
      ...(encoded ? { "X-Sample-Rate": String(encoded.stream.sampleRate) } : {}),
    });
    while (!next.done) {
      if (!res.write(next.value)) {
        const waitSignal = drainSignal();
        await once(res, "drain", { signal: waitSignal }).catch(() => {
          throw waitSignal.reason;
        });
      }
      // The service stores the clip before it reports done, so the id answers once the client has the last byte.
      next = await bytes.next();
    }
    finished = true;
    res.end();
  } finally {
    if (!finished) await bytes.return?.(undefined).catch(() => undefined);
  }
}

async function* aacOf(s: SynthesisStream): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const chunk of s) yield chunk.data;
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
    const input = { ...callerOf(res), ...body };
    const offer = synthesisOffer(req.get("accept"), stream);
    if (offer.stream) {
      // The body's format is explicit, so it wins over the one Accept picked.
      const format = asked ?? offer.audioFormat ?? "aac";
      const from = poolSourceFormat(backend.backends());
      if (format === "aac" && from === "aac") {
        await writeStream(synthesis.stream(input, { signal }), res);
        return;
      }
      // Reserved before the job starts: every encoder busy is a 503 that ran nothing.
      const ticket = encoders.reserve(from ?? "aac", format);
      res.once("close", () => ticket.release());
      const reserve = (f: SourceFormat) => {
        const t = encoders.reserve(f, format);
        res.once("close", () => t.release());
        return t;
      };
      const s = synthesis.stream(input, { signal });
      // The rate matters for priming an AAC encoder only; a pool not yet known is not asked here
      // (asking would connect to its boxes before the job, and mark a refusing one down outside
      // the job's own failover).
      const info = from === "aac" ? await backend.info().catch(() => undefined) : undefined;
      const expected = info ? expectedRate(info) : expectedRate({ model: config.model });
      // A client that stops reading (but stays) is given one job's time to go on.
      const drainSignal = () => AbortSignal.any([signal, AbortSignal.timeout(config.upstreamTimeoutMs)]);
      await writeStream(s, res, format, { stream: encodedStream(s, ticket, format, { expected, signal, from, reserve }), drainSignal });
      return;
    }
    const clip = await synthesis.synthesize(input, { signal });
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
