import { Router, type Request, type Response } from "express";
import type { RouteContext } from "../context.ts";
import { HttpProblem, PROBLEM_KINDS, toHttpProblem } from "../problems.ts";

/**
 * `GET /healthz`: the process lives (no backend call). `GET /readyz`: checks every backend now
 * (it answers and is a CosyVoice UI the SDK recognises) and reports each one's state; ready when
 * at least one is, 503 otherwise, so a load balancer stops sending. Neither needs a key nor
 * counts against a quota.
 * @example app.use(healthRoutes(ctx));
 */
export function healthRoutes(ctx: RouteContext): Router {
  const router = Router();
  const pool = ctx.deps.backend;
  router.get("/healthz", (_req: Request, res: Response) => {
    res.set("Cache-Control", "no-store").json({ status: "ok" });
  });
  router.get("/readyz", async (_req: Request, res: Response) => {
    res.set("Cache-Control", "no-store");
    let info;
    try {
      info = await pool.probe();
    } catch (err) {
      const states = pool.status();
      const detail =
        states.length === 1
          ? PROBLEM_KINDS[toHttpProblem(err).code].title
          : `No backend is ready: ${states.map((b) => `${b.name} ${b.state}${b.error ? ` (${b.error})` : ""}`).join(", ")}`;
      throw new HttpProblem("not_ready", { detail, cause: err });
    }
    res.json({
      status: "ready",
      backend: {
        variant: info.variant,
        model: info.model,
        gradioVersion: info.gradioVersion,
        ...(info.sampleRate !== undefined ? { sampleRate: info.sampleRate } : {}),
        modes: info.modes,
        speakers: info.speakers.filter((s) => s !== "").length,
      },
      backends: pool.status(),
    });
  });
  return router;
}
