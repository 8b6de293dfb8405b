/**
 * `/jobs`: long-form narration. `POST /jobs` checks everything that would fail the whole job
 * (voice, mode, text, callbackUrl, quota) and answers 202 with a Location; the job then runs in
 * the background, segment by segment. `GET /jobs/{id}` reads it, `GET /jobs` lists the caller's,
 * `GET /jobs/{id}/events` follows it (SSE) to its end, `DELETE /jobs/{id}` cancels a running job
 * or deletes a finished one, `GET /jobs/{id}/captions` gives WebVTT (SRT with `?format=srt`).
 * The audio is at the job's `audioUrl` (`/audio/{id}`: Range, ETag). Another owner's job is 404.
 */
import { Router, type Request, type Response } from "express";
import type { RouteContext } from "../../context.ts";
import { callerOf } from "../../platform/middleware/api-keys.ts";
import { jsonBody } from "../../platform/middleware/json-body.ts";
import { methodNotAllowed } from "../../platform/middleware/problem-handler.ts";
import { HttpProblem } from "../problems.ts";
import { parseOrThrow } from "../rest/schemas.ts";
import { FINISHED } from "../../jobs/model.ts";
import type { JobService } from "../../jobs/service.ts";
import { jobView } from "../../jobs/view.ts";
import { CreateJobBodySchema, JobListQuerySchema } from "./schemas.ts";

/** Options of {@link jobsRoutes}. */
export interface JobsRoutesOptions {
  jobs: JobService;
  /** How often an SSE stream says it is alive, and re-reads the job (events from another instance may be missed). @default 5_000 @unit milliseconds */
  heartbeatMs?: number;
}

/** The JSON body of a job (a few bytes; no ETag hashing). */
function sendJson(res: Response, status: number, body: unknown): void {
  res.status(status).type("application/json").set("Cache-Control", "no-store").end(JSON.stringify(body));
}

/**
 * @example app.use(jobsRoutes(ctx, { jobs: jobs.service }));
 */
export function jobsRoutes(ctx: RouteContext, opts: JobsRoutesOptions): Router {
  const { config } = ctx;
  const { jobs } = opts;
  const heartbeatMs = opts.heartbeatMs ?? 5_000;
  const bodySchema = CreateJobBodySchema(config.jobs.maxChars);
  // A whole chapter in JSON: the body cap follows the text cap (UTF-8, escapes).
  const maxBytes = Math.max(config.maxJsonBytes, config.jobs.maxChars * 4 + 16_384);
  const read = [ctx.guards.auth, ctx.guards.readLimit];
  const router = Router();

  router
    .route("/jobs")
    .post(ctx.guards.auth, ctx.guards.scope("synthesize"), ctx.guards.synthesizeLimit, jsonBody({ maxBytes }), async (req: Request, res: Response) => {
      const body = parseOrThrow(bodySchema, req.body);
      const job = await jobs.submit(callerOf(res), body);
      const view = jobView(job);
      res.location(view.url);
      sendJson(res, 202, { id: view.id, status: "queued", url: view.url, segments: view.segments });
    })
    .get(...read, async (req: Request, res: Response) => {
      const q = parseOrThrow(JobListQuerySchema, req.query);
      const page = await jobs.list(callerOf(res), { limit: q.limit, ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) });
      sendJson(res, 200, { jobs: page.jobs.map(jobView), ...(page.next !== undefined ? { next: page.next } : {}) });
    })
    .all(methodNotAllowed(["GET", "POST"]));

  router
    .route("/jobs/:id")
    .get(...read, async (req: Request<{ id: string }>, res: Response) => {
      sendJson(res, 200, jobView(await jobs.get(callerOf(res), req.params.id)));
    })
    .delete(ctx.guards.auth, ctx.guards.readLimit, async (req: Request<{ id: string }>, res: Response) => {
      const canceled = await jobs.end(callerOf(res), req.params.id);
      if (canceled) sendJson(res, 200, jobView(canceled));
      else res.status(204).end();
    })
    .all(methodNotAllowed(["GET", "DELETE"]));

  router
    .route("/jobs/:id/captions")
    .get(...read, async (req: Request<{ id: string }>, res: Response) => {
      const f = req.query["format"];
      if (f !== undefined && f !== "vtt" && f !== "srt") {
        throw new HttpProblem("invalid_request", { errors: [{ pointer: "/format", detail: "format must be vtt or srt (query parameter)", code: "invalid_value" }] });
      }
      const format = f === "srt" ? "srt" : "vtt";
      const text = await jobs.captions(callerOf(res), req.params.id, format);
      res.status(200).type(format === "srt" ? "application/x-subrip" : "text/vtt").set("Cache-Control", "private, max-age=60").end(text);
    })
    .all(methodNotAllowed(["GET"]));

  router
    .route("/jobs/:id/events")
    .get(...read, async (req: Request<{ id: string }>, res: Response) => {
      const caller = callerOf(res);
      const id = req.params.id;
      let job = await jobs.get(caller, id);
      res.status(200).set({ "Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no" });
      res.flushHeaders();
      let ended = false;
      let lastSent = "";
      const send = (event: "progress" | "end", data: unknown) => {
        const line = JSON.stringify(data);
        if (line === lastSent) return;
        lastSent = line;
        res.write(`event: ${event}\ndata: ${line}\n\n`);
      };
      const close = () => {
        if (ended) return;
        ended = true;
        clearInterval(timer);
        unfollow();
        res.end();
      };
      // Every event leads to a fresh read: the store is the truth, events only say "look again".
      let reading = false;
      let again = false;
      const look = async (): Promise<void> => {
        if (ended) return;
        if (reading) {
          again = true;
          return;
        }
        reading = true;
        try {
          do {
            again = false;
            job = await jobs.get(caller, id);
            if (FINISHED.has(job.status)) {
              send("end", jobView(job));
              close();
            } else send("progress", jobView(job));
          } while (again && !ended);
        } catch {
          close();
        } finally {
          reading = false;
        }
      };
      const unfollow = jobs.follow(id, () => void look());
      const timer = setInterval(() => {
        if (!ended) res.write(": alive\n\n");
        void look();
      }, heartbeatMs);
      res.on("close", close);
      res.write("retry: 2000\n\n");
      if (FINISHED.has(job.status)) {
        send("end", jobView(job));
        close();
      } else send("progress", jobView(job));
    })
    .all(methodNotAllowed(["GET"]));

  return router;
}
