import { pipeline } from "node:stream/promises";
import { Router, type Request, type Response } from "express";
import { methodNotAllowed } from "../../platform/middleware/problem-handler.ts";
import type { RouteContext } from "../../context.ts";
import { clipConverter } from "../../service/encode/converted-clips.ts";
import { AUDIO_FORMATS, type AudioFormat } from "../../service/encode/formats.ts";
import { AUDIO_ID } from "../../platform/ids.ts";
import { callerOf } from "../../platform/middleware/api-keys.ts";
import { mayAccess } from "../../service/owners.ts";
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
 * elements send to seek), cache headers that last until the clip expires. `?format=mp3` (opus,
 * aac, flac, wav, pcm) serves the clip converted, once, then kept beside it.
 * @example app.use(audioRoutes(ctx));
 */
export function audioRoutes(ctx: RouteContext): Router {
  const { audio, clock } = ctx.deps;
  const router = Router();
  // Audio ids are 128-bit random capabilities, so by default a browser's <audio src> can play
  // them without a key; AUDIO_REQUIRES_KEY puts them behind the key like everything else, and
  // then a clip is its owner's: another key gets 404, as for an id that never existed.
  const guards = ctx.config.audioRequiresKey ? [ctx.guards.auth, ctx.guards.readLimit] : [ctx.guards.readLimit];
  const converter = clipConverter({ audio, encoders: ctx.deps.encoders, logger: ctx.deps.logger });
  /** `?format=` (one of the encoders' formats), or undefined without one. */
  const formatOf = (req: Request): AudioFormat | undefined => {
    const f = req.query["format"];
    if (f === undefined) return undefined;
    if (typeof f === "string" && (AUDIO_FORMATS as readonly string[]).includes(f)) return f as AudioFormat;
    throw new HttpProblem("invalid_request", {
      errors: [{ pointer: "/format", detail: `format must be one of ${AUDIO_FORMATS.join(", ")} (query parameter)`, code: "invalid_value" }],
    });
  };

  router
    .route("/audio/:id")
    .get(...guards, async (req: Request<{ id: string }>, res: Response) => {
      const id = req.params.id;
      const format = formatOf(req);
      const found = AUDIO_ID.test(id) ? await audio.stat(id) : undefined;
      const clip = found && (!ctx.config.audioRequiresKey || mayAccess(callerOf(res), found.owner)) ? found : undefined;
      if (!clip) throw new HttpProblem("audio_not_found", { detail: "No audio with this id (it may have expired)" });
      // Another format: its copy, converted on the first request and kept (Range, ETag and all).
      const meta = format === undefined ? clip : await converter.convert(clip, format);

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
      const body = await audio.read(meta.id, range);
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
