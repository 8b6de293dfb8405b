import { createHash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { keyFingerprint } from "../middleware/api-keys.ts";
import { HttpProblem } from "../problems.ts";
import { JwksUnavailableError, looksLikeJwt, type JwtVerifier } from "./jwt.ts";
import { allows, type Scope } from "./principal.ts";

/** Options of {@link authenticate}. */
export interface AuthenticateOptions {
  /** Accepted API keys. */
  keys: readonly string[];
  /** Verifies JWTs; without one only API keys are accepted. */
  jwt?: JwtVerifier;
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();
const REALM = 'Bearer realm="cosyvoice3-gateway"';

const refuse = (detail: string, error?: string) =>
  new HttpProblem("unauthorized", { detail, headers: { "WWW-Authenticate": error ? `${REALM}, error="${error}"` : REALM } });

/**
 * Requires `Authorization: Bearer <credential>` when API keys or a JWT verifier are configured
 * (neither: the API is open). An API key is compared as a SHA-256 digest with `timingSafeEqual`
 * against every key without stopping early; a credential that is no key and has a JWT's shape
 * is verified as a token. Leaves the caller in `res.locals.principal` (and its owner in
 * `res.locals.clientKey`, which rate limits count by).
 * @example router.post("/synthesize", authenticate({ keys: config.apiKeys, jwt }), requireScope("synthesize"), handler);
 */
export function authenticate(options: AuthenticateOptions) {
  const digests = options.keys.map(digest);
  const { jwt } = options;
  const open = digests.length === 0 && jwt === undefined;
  return async function authenticate(req: Request, res: Response, next: NextFunction): Promise<void> {
    if (open) return next();
    const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(req.get("authorization") ?? "");
    const token = match?.[1];
    if (token === undefined) return next(refuse(jwt ? "Send an API key or a JWT as Authorization: Bearer <credential>" : "Send the API key as Authorization: Bearer <key>"));
    const given = digest(token);
    let isKey = false;
    for (const d of digests) isKey = timingSafeEqual(given, d) || isKey;
    if (isKey) {
      const owner = keyFingerprint(token);
      res.locals.principal = { owner, via: "api_key" };
      res.locals.clientKey = owner;
      return next();
    }
    if (!jwt || !looksLikeJwt(token)) return next(refuse(jwt ? "The credential is neither a valid API key nor a valid JWT" : "The API key is not valid", "invalid_token"));
    try {
      const identity = await jwt.verify(token);
      const owner = `jwt:${identity.subject}`;
      res.locals.principal = { owner, via: "jwt", ...(identity.scopes ? { scopes: identity.scopes } : {}) };
      res.locals.clientKey = owner;
      next();
    } catch (err) {
      if (err instanceof JwksUnavailableError) return next(new HttpProblem("auth_unavailable", { retryAfterSeconds: 5, cause: err }));
      next(refuse((err as Error).message, "invalid_token"));
    }
  };
}

/**
 * Refuses (403) a caller whose token's `scope` claim lacks `scope` (or `admin`). Callers with
 * unrestricted principals (API keys, tokens without `scope`, an open API) pass.
 * @example router.post("/voices", auth, requireScope("voices:write"), handler);
 */
export function requireScope(scope: Scope) {
  return function requireScope(_req: Request, res: Response, next: NextFunction): void {
    if (allows(res.locals.principal, scope)) return next();
    next(
      new HttpProblem("forbidden", {
        detail: `The token's scope does not include "${scope}"`,
        headers: { "WWW-Authenticate": `${REALM}, error="insufficient_scope", scope="${scope}"` },
      }),
    );
  };
}
