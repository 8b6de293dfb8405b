import { pipeline } from "node:stream/promises";
import { Router, type Request, type Response } from "express";
import { methodNotAllowed } from "../middleware/problem-handler.ts";
import type { RouteContext } from "../context.ts";
import { AUDIO_ID } from "../ids.ts";
import { callerOf } from "../middleware/api-keys.ts";
import { mayAccess } from "../owners.ts";
import { HttpProblem } from "../problems.ts";

/** True when an If-None-Match list names the tag (weak comparison, RFC 9110 section 13.1.2). */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  const bare = etag.replace(/^W\//, "");
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === bare);
}

/**
 * `GET /audio/:id` and `HEAD`: the stored clip with its Content-Type and Length, a strong ETag
 * (conditional GET gives 304), `Accept-Ranges: bytes` and 206 for a single range (what audio
 * elements send to seek), cache headers that last until the clip expires.
 * @example app.use(audioRoutes(ctx));
 */
export function audioRoutes(ctx: RouteContext): Router {
  const { audio, clock } = ctx.deps;
  const router = Router();
  // Audio ids are 128-bit random capabilities, so by default a browser's <audio src> can play
  // them without a key; AUDIO_REQUIRES_KEY puts them behind the key like everything else, and
  // then a clip is its owner's: another key gets 404, as for an id that never existed.
  const guards = ctx.config.audioRequiresKey ? [ctx.guards.auth, ctx.guards.readLimit] : [ctx.guards.readLimit];

  router
    .route("/audio/:id")
    .get(...guards, async (req: Request<{ id: string }>, res: Response) => {
      const id = req.params.id;
      const found = AUDIO_ID.test(id) ? await audio.stat(id) : undefined;
      const meta = found && (!ctx.config.audioRequiresKey || mayAccess(callerOf(res), found.owner)) ? found : undefined;
      if (!meta) throw new HttpProblem("audio_not_found", { detail: "No audio with this id (it may have expired)" });

      const maxAge = Math.max(0, Math.floor((meta.expiresAt - clock.now()) / 1000));
      res.set({
        ETag: meta.etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": `${ctx.config.audioRequiresKey ? "private" : "public"}, max-age=${maxAge}, immutable`,
        "Last-Modified": new Date(meta.createdAt).toUTCString(),
        "X-Content-Type-Options": "nosniff",
      });
      if (matchesEtag(req.get("if-none-match"), meta.etag)) {
        res.status(304).end();
        return;
      }

      let range: { start: number; end: number } | undefined;
      const ifRange = req.get("if-range");
      // A Range with a stale If-Range validator gets the whole clip (RFC 9110 section 13.1.5).
      if (req.get("range") !== undefined && (ifRange === undefined || ifRange === meta.etag)) {
        const ranges = req.range(meta.bytes, { combine: true });
        if (ranges === -1) {
          res.set("Content-Range", `bytes */${meta.bytes}`);
          throw new HttpProblem("range_not_satisfiable", { detail: `The clip has ${meta.bytes} bytes` });
        }
        // Malformed (-2) or several disjoint ranges: the server may ignore Range and send all.
        if (Array.isArray(ranges) && ranges.type === "bytes" && ranges.length === 1 && ranges[0]) range = ranges[0];
      }

      res.type(meta.mimeType);
      if (range) {
        res.status(206).set({ "Content-Range": `bytes ${range.start}-${range.end}/${meta.bytes}`, "Content-Length": String(range.end - range.start + 1) });
      } else {
        res.status(200).set("Content-Length", String(meta.bytes));
      }
      if (req.method === "HEAD") {
        res.end();
        return;
      }
      const body = await audio.read(id, range);
      if (!body) throw new HttpProblem("audio_not_found", { detail: "No audio with this id (it may have expired)" });
      res.flushHeaders();
      await pipeline(body, res).catch((err: unknown) => {
        // A client that stops reading mid-clip is normal for audio elements; anything else is logged.
        if (!res.destroyed) throw err;
      });
    })
    .all(methodNotAllowed(["GET"]));

  return router;
}
