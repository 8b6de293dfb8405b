import { Router, type Request, type Response } from "express";
import type { RouteContext } from "../../context.ts";
import { downSlug, HttpProblem, PROBLEM_KINDS, toHttpProblem } from "../problems.ts";

/**
 * `GET /healthz`: the process lives (no backend call). `GET /readyz`: each box's state (every
 * box of the registry once, with its kind and the doors that use it) as the gateway knows it (its periodic check and its jobs keep it current; only a box never seen or
 * down is looked at again, a bounded few times a second however often this is asked, since
 * it needs no key); ready when at least one is up and the shared store (Redis, with
 * `STORE=redis`) answers, 503 otherwise with the reason, so a load balancer stops sending. Neither needs a key nor counts against a quota.
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
    // Without the shared store nothing can be served: its 503 problem says so (Redis away).
    await ctx.deps.sharedStore?.ping();
    const readiness = await pool.readiness();
    const { ready, lastError } = readiness;
    // The registry says why a box is down by the error's code; here it is named as its problem
    // type, and its title names the box's service.
    const slugged = <B extends { error?: string }>(b: B): B => (b.error !== undefined ? { ...b, error: downSlug(b.error) } : b);
    const poolBoxes = readiness.backends.map(slugged);
    // Every box once: the synthesis pool's, the passthrough's, the ASR server.
    const backends = readiness.boxes.map(slugged);
    if (!ready) {
      const only = readiness.boxes.find((b) => b.name === poolBoxes[0]?.name);
      const detail =
        poolBoxes.length === 1
          ? (only?.title ?? PROBLEM_KINDS[toHttpProblem(lastError).code].title)
          : `No backend is ready: ${poolBoxes.map((b) => `${b.name} ${b.state}${b.error ? ` (${b.error})` : ""}`).join(", ")}`;
      throw new HttpProblem("not_ready", { detail, cause: lastError });
    }
    const { info } = ready;
    res.json({
      status: "ready",
      backend: {
        kind: info.kind,
        variant: info.variant,
        model: info.model,
        ...(info.gradioVersion !== undefined ? { gradioVersion: info.gradioVersion } : {}),
        ...(info.sampleRate !== undefined ? { sampleRate: info.sampleRate } : {}),
        modes: info.modes,
        speakers: info.speakers.filter((s) => s !== "").length,
      },
      backends,
    });
  });
  return router;
}
