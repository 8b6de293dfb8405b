import { once } from "node:events";
import type { Mode, SynthesisRequest } from "cosyvoice3-sdk";
import { Router, type NextFunction, type Request, type Response } from "express";
import { concurrencyCap } from "../middleware/concurrency-cap.ts";
import { jsonBody } from "../middleware/json-body.ts";
import { methodNotAllowed } from "../middleware/problem-handler.ts";
import { upstreamDeadline } from "../middleware/upstream-deadline.ts";
import type { RouteContext } from "../context.ts";
import type { PoolRequestOptions } from "../pool.ts";
import { synthesisOffer } from "../http/negotiate.ts";
import { newId } from "../ids.ts";
import { HttpProblem } from "../problems.ts";
import { parseOrThrow, SynthesizeBodySchema, type SynthesisCreated } from "../schemas.ts";
import { resolveVoice, toSdkRequest } from "../voices.ts";

interface Plan {
  voice: string;
  mode: Mode;
  request: SynthesisRequest;
  stream: boolean;
}

// Per-request plan, from validation to the job; a WeakMap keeps it off the shared locals type.
const plans = new WeakMap<Request, Plan>();

/**
 * `POST /synthesize`: validates, resolves the voice, then (within the deadline and a job slot)
 * either stores the whole clip and answers 201 with its id, or streams AAC chunks as they are
 * generated and stores the clip under the id in `X-Audio-Id`.
 * @example app.use(synthesizeRoutes(ctx));
 */
export function synthesizeRoutes(ctx: RouteContext): Router {
  const { backend, audio } = ctx.deps;
  const { config } = ctx;
  const bodySchema = SynthesizeBodySchema(config.maxTextChars);
  const router = Router();

  async function plan(req: Request, _res: Response, next: NextFunction): Promise<void> {
    const body = parseOrThrow(bodySchema, req.body);
    const stream = synthesisOffer(req.get("accept"), body.stream).stream;
    const voice = await resolveVoice(body.voice, ctx.deps);
    const { mode, request } = toSdkRequest(body, voice);
    plans.set(req, { voice: voice.id, mode, request, stream });
    next();
  }

  async function run(req: Request, res: Response): Promise<void> {
    const p = plans.get(req);
    const signal = res.locals.signal;
    if (!p || !signal) throw new HttpProblem("internal");
    const lease = res.locals.lease;
    const options: PoolRequestOptions = { signal, timeoutMs: config.upstreamTimeoutMs, ...(lease ? { lease } : {}) };
    try {
      if (p.stream) await streamClip(p, options, res);
      else await createClip(p, options, res);
    } catch (err) {
      // The SDK reports our own abort as AbortError; the signal's reason says why (deadline,
      // client gone, shutdown), which decides the answer.
      throw signal.aborted ? signal.reason : err;
    }
  }

  async function createClip(p: Plan, options: PoolRequestOptions, res: Response): Promise<void> {
    const result = await backend.synthesize(p.request, options);
    const id = newId("a_");
    const meta = await audio.put(
      { id, mimeType: result.mimeType, sampleRate: result.sampleRate, durationMs: result.durationMs },
      result.audio,
    );
    const body: SynthesisCreated = {
      id,
      url: `/audio/${id}`,
      mimeType: meta.mimeType,
      bytes: meta.bytes,
      sampleRate: result.sampleRate,
      durationMs: result.durationMs,
      chunks: result.chunks,
      voice: p.voice,
      mode: p.mode,
      expiresAt: new Date(meta.expiresAt).toISOString(),
    };
    // Not res.json(): Express would hash the body for an ETag, which means nothing on a 201 and
    // cost about 0.1 ms per request in the benchmark (Node sets the Content-Length itself).
    res.status(201).location(body.url).type("application/json").end(JSON.stringify(body));
  }

  async function streamClip(p: Plan, options: PoolRequestOptions, res: Response): Promise<void> {
    const id = newId("a_");
    const chunks = backend.stream(p.request, options)[Symbol.asyncIterator]();
    let finished = false;
    try {
      // Headers wait for the first chunk, so anything that fails before audio exists is still
      // a proper problem response.
      let next = await chunks.next();
      if (next.done) throw new HttpProblem("upstream", { detail: "The backend produced no audio" });
      res.status(200).set({
        "Content-Type": "audio/aac",
        "Cache-Control": "no-store",
        "X-Audio-Id": id,
        "Content-Location": `/audio/${id}`,
        "X-Accel-Buffering": "no",
      });
      const parts: Uint8Array[] = [];
      let durationMs = 0;
      while (!next.done) {
        parts.push(next.value.data);
        durationMs += next.value.durationMs;
        if (!res.write(next.value.data)) await once(res, "drain", { signal: options.signal });
        next = await chunks.next();
      }
      finished = true;
      const info = await backend.info().catch(() => undefined);
      // Stored before the body ends, so the id answers as soon as the client has the last byte.
      await audio.put(
        { id, mimeType: "audio/aac", durationMs: Math.round(durationMs), ...(info?.sampleRate ? { sampleRate: info.sampleRate } : {}) },
        Buffer.concat(parts),
      );
      res.end();
    } finally {
      if (!finished) await chunks.return?.(undefined).catch(() => undefined);
    }
  }

  router
    .route("/synthesize")
    .post(
      ctx.guards.auth,
      ctx.guards.synthesizeLimit,
      jsonBody({ maxBytes: config.maxJsonBytes }),
      plan,
      upstreamDeadline({ ms: config.upstreamTimeoutMs, ...(ctx.deps.shutdown ? { shutdown: ctx.deps.shutdown } : {}) }),
      concurrencyCap({ pool: backend }),
      run,
    )
    .all(methodNotAllowed(["POST"]));
  return router;
}
