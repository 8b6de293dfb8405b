import { Router, type Request, type Response } from "express";
import { capabilitiesOf } from "../../service/capabilities.ts";
import type { RouteContext } from "../../context.ts";
import { HttpProblem } from "../problems.ts";

/**
 * `GET /capabilities`: the modes, languages, instruct controls and built-in speakers a frontend
 * can offer, from what the pool already knows of its backends (the health check's last
 * answer; before the first one, the connected client's description). No backend call per
 * request, no key, no quota: like `/readyz` it describes the service, not a caller's data.
 * 503 `not-ready` until a backend has been recognised.
 * @example app.use(capabilitiesRoutes(ctx));
 */
export function capabilitiesRoutes(ctx: RouteContext): Router {
  const pool = ctx.deps.backend;
  const router = Router();
  router.get("/capabilities", async (_req: Request, res: Response) => {
    let info = pool.readyInfo()?.info;
    if (!info) {
      try {
        info = await pool.info();
      } catch (err) {
        throw new HttpProblem("not_ready", { detail: "No backend has been recognised yet; retry in a few seconds", retryAfterSeconds: 2, cause: err });
      }
    }
    res.set("Cache-Control", "no-cache").json(capabilitiesOf([info], ctx.config));
  });
  return router;
}
