import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import express, { Router, type NextFunction, type Request, type Response } from "express";

/**
 * The static files: beside this module in the sources, copied beside the build by the gateway's
 * `build` script (tsc does not copy them); a build without the copy (a bare `tsc`) finds them in
 * the sources it ships with (`src/doors/playground/static`).
 */
export const PLAYGROUND_DIR = [new URL("./static/", import.meta.url), new URL("./static/", import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((dir) => existsSync(join(dir, "index.html"))) ?? fileURLToPath(new URL("./static/", import.meta.url));

/** Options of {@link playgroundRoutes}. */
export interface PlaygroundOptions {
  /** Where index.html, app.js, wav.js and style.css are. @default PLAYGROUND_DIR */
  dir?: string;
  /**
   * Asked on each request: when false the page is not served and the request goes on (e.g. to a
   * passthrough route at `/`). @default always true
   */
  active?: () => boolean;
}

// The page loads only its own files; audio comes from the gateway or a blob: URL (MediaSource,
// recordings). No inline script, no third-party origin.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "media-src 'self' blob:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The playground page at `/` (static HTML, JS and CSS under `/playground/`): pick or record a
 * voice, choose mode and instruct controls, hear the speech as it streams. It calls the same
 * public REST API as any frontend. `PLAYGROUND=false` leaves it out.
 * @example if (config.playground) app.use(playgroundRoutes());
 */
export function playgroundRoutes(options: PlaygroundOptions = {}): Router {
  const dir = options.dir ?? PLAYGROUND_DIR;
  if (!existsSync(dir)) throw new Error(`the playground's files are missing at ${dir} (build the gateway with its build script)`);
  const router = Router();
  const active = options.active ?? (() => true);
  router.use(function playgroundActive(_req: Request, _res: Response, next: NextFunction) {
    next(active() ? undefined : "router");
  });
  const headers = (res: Response) => {
    res.setHeader("Content-Security-Policy", CSP);
    res.setHeader("Cache-Control", "no-cache");
    res.setHeader("Referrer-Policy", "no-referrer");
  };
  router.get("/", function playgroundPage(_req: Request, res: Response) {
    headers(res);
    res.sendFile("index.html", { root: dir });
  });
  router.use(
    "/playground",
    express.static(dir, {
      index: false,
      fallthrough: true,
      setHeaders: headers,
    }),
  );
  return router;
}
