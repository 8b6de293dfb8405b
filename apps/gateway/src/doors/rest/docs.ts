import { Router, type NextFunction, type Request, type Response } from "express";
import type { RouteContext } from "../../context.ts";

/** The document and Swagger UI's router, built on first use. */
interface Docs {
  document: object;
  ui: Router;
}

/**
 * `GET /openapi.json` (the document built from the same zod schemas the routes validate with)
 * and Swagger UI at `GET /docs`. Both are built on their first request, with swagger-ui-express
 * loaded then: a gateway nobody reads the docs of never holds them in memory.
 * @example app.use(docsRoutes(ctx));
 */
export function docsRoutes(ctx: RouteContext): Router {
  let docs: Promise<Docs> | undefined;
  const load = (): Promise<Docs> =>
    (docs ??= (async () => {
      const [swaggerUi, { buildOpenApi }] = await Promise.all([import("swagger-ui-express").then((m) => (m as unknown as { default: typeof m }).default ?? m), import("../openapi/document.ts")]);
      const document = buildOpenApi(ctx.config);
      const ui = Router();
      ui.use(swaggerUi.serveFiles(document), swaggerUi.setup(document, { customSiteTitle: "CosyVoice3 gateway" }));
      return { document, ui };
    })());
  const router = Router();
  router.get("/openapi.json", async (_req: Request, res: Response) => {
    res.json((await load()).document);
  });
  router.use("/docs", async function swaggerUi(req: Request, res: Response, next: NextFunction) {
    (await load()).ui(req, res, next);
  });
  return router;
}
