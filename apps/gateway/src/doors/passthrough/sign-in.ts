/**
 * Keys on the passthrough. Programs send `Authorization: Bearer <key>` (checked by the same
 * `apiKeys()` the REST API uses). A browser cannot add that header to the page's own requests,
 * so it signs in once on `/sign-in` and gets an HttpOnly, SameSite=Lax cookie: a signed token
 * naming the key by its fingerprint, never the key itself, and never anything in a URL. The
 * token is an HMAC keyed by the API key, so every gateway holding the key accepts it without a
 * shared secret, and removing a key from API_KEYS ends its browser sessions.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { apiKeys, keyFingerprint } from "../../platform/middleware/api-keys.ts";
import { HttpProblem } from "../problems.ts";

/** The browser's sign-in cookie. */
export const SESSION_COOKIE = "cv3gw_session";

/** Options of {@link passthroughAuth}. */
export interface PassthroughAuthOptions {
  keys: readonly string[];
  /** How long a sign-in lasts. @default 43_200_000 (12 h) @unit milliseconds */
  sessionMs?: number;
  /** @default Date.now */
  now?: () => number;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString("base64url");
const mac = (key: string, payload: string) => createHmac("sha256", key).update(`cv3gw-session:${payload}`).digest();

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** The Cookie header without our cookie (the backend never sees it), or undefined when nothing is left. */
export function withoutSessionCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const rest = header
    .split(";")
    .map((p) => p.trim())
    .filter((p) => p !== "" && !p.startsWith(`${SESSION_COOKIE}=`));
  return rest.length > 0 ? rest.join("; ") : undefined;
}

/** A local path to go back to after signing in; anything else (another origin, `//x`) is `/`. */
const safeNext = (n: unknown): string => (typeof n === "string" && /^\/(?![/\\])[^\s\\]*$/.test(n) ? n : "/");

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(next: string, error: boolean): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in - cosyvoice3-gateway</title>
<style>body{font:16px system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}input{width:100%;padding:.5rem;margin:.5rem 0;box-sizing:border-box}button{padding:.5rem 1rem}.error{color:#b00}</style>
</head><body>
<h1>Sign in</h1>
${error ? '<p class="error" role="alert">That key is not valid.</p>' : ""}
<form method="post" action="/sign-in">
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="${escapeHtml(next)}">
<button type="submit">Sign in</button>
</form>
</body></html>`;
}

/**
 * The passthrough's key check and the sign-in pages.
 * @example
 * const auth = passthroughAuth({ keys: config.apiKeys });
 * app.use(auth.routes);              // GET/POST /sign-in, POST /sign-out
 * app.use("/cosyvoice", auth.check); // Bearer, or the sign-in cookie
 */
export function passthroughAuth(options: PassthroughAuthOptions): {
  routes: Router;
  check: (req: Request, res: Response, next: NextFunction) => void;
} {
  const now = options.now ?? Date.now;
  const ttl = options.sessionMs ?? 43_200_000;
  const byFingerprint = new Map(options.keys.map((k) => [keyFingerprint(k), k]));
  const bearer = apiKeys({ keys: options.keys });

  const issue = (key: string): string => {
    const payload = b64(JSON.stringify({ k: keyFingerprint(key), e: Math.floor((now() + ttl) / 1000) }));
    return `${payload}.${b64(mac(key, payload))}`;
  };
  const verify = (token: string | undefined): string | undefined => {
    if (!token) return undefined;
    const [payload, sig] = token.split(".");
    if (!payload || !sig) return undefined;
    let claims: { k?: unknown; e?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { k?: unknown; e?: unknown };
    } catch {
      return undefined;
    }
    const key = typeof claims.k === "string" ? byFingerprint.get(claims.k) : undefined;
    if (!key || typeof claims.e !== "number" || claims.e * 1000 < now()) return undefined;
    const want = mac(key, payload);
    const got = Buffer.from(sig, "base64url");
    return got.length === want.length && timingSafeEqual(got, want) ? (claims.k as string) : undefined;
  };

  const routes = express.Router();
  routes.get("/sign-in", (req, res) => {
    res.setHeader("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
    res.setHeader("Cache-Control", "no-store");
    res.type("html").send(page(safeNext(req.query["next"]), req.query["error"] === "1"));
  });
  routes.post("/sign-in", express.urlencoded({ extended: false, limit: "4kb" }), (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = safeNext(body["next"]);
    const key = typeof body["key"] === "string" ? body["key"].trim() : "";
    const ok = key !== "" && options.keys.some((k) => k.length === key.length && timingSafeEqual(Buffer.from(k), Buffer.from(key)));
    res.setHeader("Cache-Control", "no-store");
    if (!ok) return void res.redirect(303, `/sign-in?error=1&next=${encodeURIComponent(next)}`);
    res.cookie(SESSION_COOKIE, issue(key), { httpOnly: true, sameSite: "lax", secure: req.secure, path: "/", maxAge: ttl });
    res.redirect(303, next);
  });
  routes.post("/sign-out", (req, res) => {
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: "lax", secure: req.secure, path: "/" });
    res.redirect(303, "/sign-in");
  });

  function check(req: Request, res: Response, next: NextFunction): void {
    if (options.keys.length === 0) return next();
    if (req.get("authorization") !== undefined) return bearer(req, res, next);
    const fingerprint = verify(readCookie(req.get("cookie"), SESSION_COOKIE));
    if (fingerprint) {
      res.locals.clientKey = fingerprint;
      return next();
    }
    // A person opening the page is sent to sign in; a program gets the 401 it can act on.
    if (req.method === "GET" && (req.get("accept") ?? "").includes("text/html")) {
      return void res.redirect(303, `/sign-in?next=${encodeURIComponent(req.originalUrl)}`);
    }
    next(
      new HttpProblem("unauthorized", {
        detail: "Send the API key as Authorization: Bearer <key>, or sign in at /sign-in",
        headers: { "WWW-Authenticate": 'Bearer realm="cosyvoice3-gateway"' },
      }),
    );
  }
  return { routes, check };
}
