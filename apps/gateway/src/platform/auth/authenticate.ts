import type { NextFunction, Request, RequestHandler, Response } from "express";
import { HttpProblem } from "../../doors/problems.ts";
import { JwksUnavailableError, looksLikeJwt, type JwtVerifier } from "./jwt.ts";
import { allows, type Scope } from "./principal.ts";

/** Options of {@link authenticate}. */
export interface AuthenticateOptions {
  /** The API-key check (`apiKeys()`), which also names key callers. */
  keys: RequestHandler;
  /** Whether any API key is configured (without, and without `jwt`, the API is open). */
  keysConfigured: boolean;
  /** Verifies JWTs; without one only API keys are accepted. */
  jwt?: JwtVerifier;
}

const REALM = 'Bearer realm="cosyvoice3-gateway"';

const refuse = (detail: string, error?: string) =>
  new HttpProblem("unauthorized", { detail, headers: { "WWW-Authenticate": error ? `${REALM}, error="${error}"` : REALM } });

/**
 * API keys and, when a verifier is given, JWTs, both as `Authorization: Bearer <credential>`. A
 * credential with a JWT's shape is verified as a token first; if it is not a valid token but
 * keys are configured it may still be a key (a key may contain dots). A token's caller is
 * `jwt:<sub>` (`res.locals.caller`, so it owns its voices and clips; the `admin` scope gives
 * the admin powers), its scopes go to `res.locals.principal`, and its owner to
 * `res.locals.clientKey`, which rate limits count by.
 * @example const auth = authenticate({ keys: apiKeys({ keys }), keysConfigured: keys.length > 0, jwt });
 */
export function authenticate(options: AuthenticateOptions): RequestHandler {
  const { jwt, keys, keysConfigured } = options;
  if (!jwt) return keys;
  return async function authenticate(req: Request, res: Response, next: NextFunction): Promise<void> {
    const token = /^Bearer[ ]+([^\s]+)\s*$/i.exec(req.get("authorization") ?? "")?.[1];
    if (token === undefined || !looksLikeJwt(token)) {
      if (keysConfigured) {
        keys(req, res, next);
        return;
      }
      return next(refuse(token === undefined ? "Send a JWT as Authorization: Bearer <token>" : "The credential is not a JWT", token === undefined ? undefined : "invalid_token"));
    }
    let identity;
    try {
      identity = await jwt.verify(token);
    } catch (err) {
      if (err instanceof JwksUnavailableError) return next(new HttpProblem("auth_unavailable", { retryAfterSeconds: 5, cause: err }));
      const why = refuse((err as Error).message, "invalid_token");
      // Not a valid token: a key with dots in it is still a key; anything else gets the token's reason.
      if (keysConfigured) {
        keys(req, res, (keyErr?: unknown) => next(keyErr === undefined ? undefined : why));
        return;
      }
      return next(why);
    }
    const owner = `jwt:${identity.subject}`;
    const admin = identity.scopes?.has("admin") === true;
    res.locals.principal = { owner, via: "jwt", ...(identity.scopes ? { scopes: identity.scopes } : {}) };
    res.locals.caller = admin ? { owner, admin } : { owner };
    res.locals.clientKey = owner;
    next();
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
