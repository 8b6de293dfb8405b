import { Router, type Request, type Response } from "express";
import swaggerUi from "swagger-ui-express";
import type { RouteContext } from "../../context.ts";
import { buildOpenApi } from "../openapi/document.ts";

/**
 * `GET /openapi.json` (the document built from the same zod schemas the routes validate with)
 * and Swagger UI at `GET /docs`.
 * @example app.use(docsRoutes(ctx));
 */
export function docsRoutes(ctx: RouteContext): Router {
  const document = buildOpenApi(ctx.config);
  const router = Router();
  router.get("/openapi.json", (_req: Request, res: Response) => {
    res.json(document);
  });
  router.use("/docs", swaggerUi.serveFiles(document), swaggerUi.setup(document, { customSiteTitle: "CosyVoice3 gateway" }));
  return router;
}
