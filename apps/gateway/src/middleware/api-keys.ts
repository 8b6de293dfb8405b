import { createHash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { HttpProblem } from "../problems.ts";

/** Options of {@link apiKeys}. */
export interface ApiKeysOptions {
  /** Accepted keys; an empty list leaves the API open. */
  keys: readonly string[];
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

/**
 * A short, non-reversible name of a key, for rate-limit buckets and logs (the key itself is
 * never logged).
 * @example keyFingerprint("s3cr3t...") // "key:Jx1b0Zq8cW4"
 */
export function keyFingerprint(key: string): string {
  return "key:" + digest("cosyvoice3-gateway:" + key).toString("base64url").slice(0, 16);
}

/**
 * Requires `Authorization: Bearer <key>` when keys are configured. Keys are compared as SHA-256
 * digests with `timingSafeEqual`, against every configured key without stopping early, so
 * neither the key's length nor which key matched shows in the timing.
 * @example app.use("/voices", apiKeys({ keys: config.apiKeys }));
 */
export function apiKeys(options: ApiKeysOptions) {
  const digests = options.keys.map(digest);
  return function apiKeys(req: Request, res: Response, next: NextFunction): void {
    if (digests.length === 0) return next();
    const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(req.get("authorization") ?? "");
    const token = match?.[1];
    if (token === undefined) {
      return next(
        new HttpProblem("unauthorized", {
          detail: "Send the API key as Authorization: Bearer <key>",
          headers: { "WWW-Authenticate": 'Bearer realm="cosyvoice3-gateway"' },
        }),
      );
    }
    const given = digest(token);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(given, d) || ok;
    if (!ok) {
      return next(
        new HttpProblem("unauthorized", {
          detail: "The API key is not valid",
          headers: { "WWW-Authenticate": 'Bearer realm="cosyvoice3-gateway", error="invalid_token"' },
        }),
      );
    }
    res.locals.clientKey = keyFingerprint(token);
    next();
  };
}
