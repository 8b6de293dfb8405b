import { Router, type Request, type Response } from "express";
import type { RouteContext } from "../context.ts";
import { HttpProblem, PROBLEM_KINDS, toHttpProblem } from "../problems.ts";

/**
 * `GET /healthz`: the process lives (no backend call). `GET /readyz`: the backend answers now
 * and is a CosyVoice UI the SDK recognises; 503 otherwise, so a load balancer stops sending.
 * Neither needs a key nor counts against a quota.
 * @example app.use(healthRoutes(ctx));
 */
export function healthRoutes(ctx: RouteContext): Router {
  const router = Router();
  router.get("/healthz", (_req: Request, res: Response) => {
    res.set("Cache-Control", "no-store").json({ status: "ok" });
  });
  router.get("/readyz", async (_req: Request, res: Response) => {
    res.set("Cache-Control", "no-store");
    let info;
    try {
      info = await ctx.deps.backend.probe();
    } catch (err) {
      const cause = toHttpProblem(err);
      throw new HttpProblem("not_ready", { detail: PROBLEM_KINDS[cause.code].title, cause: err });
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
    });
  });
  return router;
}
