import { createHash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { ANONYMOUS_OWNER, type Caller } from "../../service/owners.ts";
import { HttpProblem } from "../../doors/problems.ts";

/** Options of {@link apiKeys}. */
export interface ApiKeysOptions {
  /** Accepted keys; an empty list (and no admin keys) leaves the API open. */
  keys: readonly string[];
  /** Keys that are accepted too and see every owner's voices and clips. @default [] */
  adminKeys?: readonly string[];
}

const ANONYMOUS: Caller = { owner: ANONYMOUS_OWNER };

/**
 * Who the request is from, as `apiKeys()` found it: the key's owner (its fingerprint), or the
 * one anonymous owner when the API is open (or before `apiKeys()` ran).
 * @example const clip = await synthesis.synthesize({ ...callerOf(res), voice, text });
 */
export function callerOf(res: Response): Caller {
  return res.locals.caller ?? ANONYMOUS;
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
 * Requires `Authorization: Bearer <key>` when keys are configured, and names the caller
 * (`res.locals.caller`: the key's fingerprint as its owner; admin for an admin key). Keys are
 * compared as SHA-256 digests with `timingSafeEqual`, against every configured key without
 * stopping early, so neither the key's length nor which key matched shows in the timing.
 * @example app.use("/voices", apiKeys({ keys: config.apiKeys, adminKeys: config.adminKeys }));
 */
export function apiKeys(options: ApiKeysOptions) {
  const digests = [...options.keys.map((k) => ({ d: digest(k), admin: false })), ...(options.adminKeys ?? []).map((k) => ({ d: digest(k), admin: true }))];
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
    let admin = false;
    for (const { d, admin: isAdmin } of digests) {
      const same = timingSafeEqual(given, d);
      ok = same || ok;
      admin = (same && isAdmin) || admin;
    }
    if (!ok) {
      return next(
        new HttpProblem("unauthorized", {
          detail: "The API key is not valid",
          headers: { "WWW-Authenticate": 'Bearer realm="cosyvoice3-gateway", error="invalid_token"' },
        }),
      );
    }
    const owner = keyFingerprint(token);
    res.locals.clientKey = owner;
    res.locals.caller = admin ? { owner, admin } : { owner };
    next();
  };
}
