import corsMiddleware from "cors";
import type { NextFunction, Request, Response } from "express";

/** Options of {@link crossOrigin}. */
export interface CrossOriginOptions {
  /**
   * Origins whose pages may call the API from JavaScript (`https://app.example.com`), or `["*"]`
   * for any. Empty: no CORS headers at all, so only same-origin pages (and non-browser clients)
   * can read responses. `<audio src>` works cross-origin either way (media requests are no-cors).
   */
  origins: string[];
  /** How long a browser may cache a preflight answer. @default 600 @unit seconds */
  maxAgeSeconds?: number;
}

/** Response headers a frontend needs to read: ids, quotas, retry hints, ranges. */
const EXPOSED = [
  "X-Request-Id",
  "X-Audio-Id",
  "Retry-After",
  "RateLimit",
  "RateLimit-Policy",
  "Content-Range",
  "Accept-Ranges",
  "Content-Length",
  "ETag",
  "Location",
];

/**
 * CORS for browser frontends on other origins, answering preflights before auth and rate limits
 * (a preflight carries no credentials, so those would refuse it). Bearer keys travel in a header,
 * not cookies, so credentials mode stays off and `*` is safe to offer.
 * @example app.use(crossOrigin({ origins: ["https://app.example.com"] }));
 */
export function crossOrigin(opts: CrossOriginOptions) {
  const any = opts.origins.includes("*");
  const allowed = new Set(opts.origins);
  const handler = corsMiddleware({
    origin: any ? "*" : (origin, cb) => cb(null, origin !== undefined && allowed.has(origin)),
    methods: ["GET", "HEAD", "POST", "DELETE"],
    allowedHeaders: ["Authorization", "Content-Type", "Accept", "Range", "X-Request-Id", "If-None-Match", "If-Range"],
    exposedHeaders: EXPOSED,
    maxAge: opts.maxAgeSeconds ?? 600,
    optionsSuccessStatus: 204,
  });
  return function crossOrigin(req: Request, res: Response, next: NextFunction) {
    if (opts.origins.length === 0) return next();
    handler(req, res, next);
  };
}
