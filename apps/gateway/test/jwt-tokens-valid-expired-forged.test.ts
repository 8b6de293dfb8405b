/**
 * JWT sign-in with real tokens signed by jose: an HS256 secret, and an issuer's JWKS served by an
 * in-process HTTP server (RS256 and ES256, with a key rotation). Pins the attacks: alg none,
 * algorithm confusion (HS256 signed with the issuer's public key), a key the issuer never had,
 * expired tokens, another audience or issuer, and a scope that does not cover the route.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWK, type CryptoKey } from "jose";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticate, requireScope } from "../src/platform/auth/authenticate.ts";
import { apiKeys } from "../src/platform/middleware/api-keys.ts";
import { createJwtVerifier } from "../src/platform/auth/jwt.ts";
import { problemHandler } from "../src/platform/middleware/problem-handler.ts";
import { requestId } from "../src/platform/middleware/request-id.ts";

const ISSUER = "https://id.test/";
const AUDIENCE = "cosyvoice3";
const SECRET = "s".repeat(40);
const API_KEY = "k".repeat(32);

async function startApp(verifier: ReturnType<typeof createJwtVerifier>) {
  const app = express();
  app.use(requestId());
  const auth = authenticate({ keys: apiKeys({ keys: [API_KEY] }), keysConfigured: true, jwt: verifier });
  app.get("/me", auth, (_req, res) => void res.json({ ...res.locals.caller, via: res.locals.principal?.via ?? "api_key" }));
  app.post("/synthesize", auth, requireScope("synthesize"), (_req, res) => void res.json({ ok: true }));
  app.post("/voices", auth, requireScope("voices:write"), (_req, res) => void res.json({ ok: true }));
  app.use(problemHandler({ logger: pino({ level: "silent" }) }));
  const server: Server = await new Promise((r) => {
    const s = app.listen(0, "127.0.0.1", () => r(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (path: string, token: string | undefined, method = "GET") => {
    const res = await fetch(url + path, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, auth: res.headers.get("www-authenticate") };
  };
  return { call, close: () => new Promise((r) => server.close(r)) };
}

const hs = (claims: Record<string, unknown> = {}, opts: { exp?: string | number; aud?: string; iss?: string; secret?: string } = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("user-1")
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? "5m")
    .sign(new TextEncoder().encode(opts.secret ?? SECRET));

describe("HS256 with JWT_SECRET", () => {
  let app: Awaited<ReturnType<typeof startApp>>;
  beforeAll(async () => {
    app = await startApp(createJwtVerifier({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE, clockToleranceSec: 5 }));
  });
  afterAll(() => app.close());

  it("a valid token names its sub as the owner", async () => {
    const r = await app.call("/me", await hs());
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ owner: "jwt:user-1", via: "jwt" });
    const admin = await app.call("/me", await hs({ scope: "admin synthesize" }));
    expect(admin.body).toEqual({ owner: "jwt:user-1", admin: true, via: "jwt" });
  });

  it("an expired token is refused with 401 and says so", async () => {
    const r = await app.call("/me", await hs({}, { exp: Math.floor(Date.now() / 1000) - 60 }));
    expect(r.status).toBe(401);
    expect(r.body["detail"]).toMatch(/expired/);
    expect(r.auth).toContain('error="invalid_token"');
  });

  it("a token a few seconds past its expiry passes within the clock skew", async () => {
    const r = await app.call("/me", await hs({}, { exp: Math.floor(Date.now() / 1000) - 2 }));
    expect(r.status).toBe(200);
  });

  it("another audience or issuer is refused", async () => {
    expect((await app.call("/me", await hs({}, { aud: "someone-else" }))).body["detail"]).toMatch(/"aud"/);
    expect((await app.call("/me", await hs({}, { iss: "https://evil.test/" }))).status).toBe(401);
  });

  it("a token signed with another secret is refused", async () => {
    const r = await app.call("/me", await hs({}, { secret: "x".repeat(40) }));
    expect(r.status).toBe(401);
    expect(r.body["detail"]).toMatch(/signature/);
  });

  it("alg none is refused", async () => {
    const none = new UnsecuredJWT({}).setSubject("admin").setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime("5m").encode();
    expect((await app.call("/me", none)).status).toBe(401);
  });

  it("a token without exp is refused (it would be good forever)", async () => {
    const forever = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("u").setIssuer(ISSUER).setAudience(AUDIENCE).sign(new TextEncoder().encode(SECRET));
    expect((await app.call("/me", forever)).status).toBe(401);
  });

  it("API keys keep working beside tokens; a wrong credential is refused", async () => {
    const r = await app.call("/me", API_KEY);
    expect(r.status).toBe(200);
    expect(r.body["via"]).toBe("api_key");
    expect(String(r.body["owner"])).toMatch(/^key:/);
    expect((await app.call("/me", "nope-nope-nope-nope")).status).toBe(401);
    expect((await app.call("/me", undefined)).status).toBe(401);
  });

  it("a scope claim restricts routes; admin grants all; no scope claim is unrestricted", async () => {
    const only = await hs({ scope: "synthesize" });
    expect((await app.call("/synthesize", only, "POST")).status).toBe(200);
    const refused = await app.call("/voices", only, "POST");
    expect(refused.status).toBe(403);
    expect(refused.body["type"]).toMatch(/forbidden$/);
    expect(refused.auth).toContain('error="insufficient_scope"');
    expect((await app.call("/voices", await hs({ scope: "admin" }), "POST")).status).toBe(200);
    expect((await app.call("/voices", await hs({ scp: ["voices:write"] }), "POST")).status).toBe(200);
    expect((await app.call("/voices", await hs(), "POST")).status).toBe(200);
    expect((await app.call("/voices", API_KEY, "POST")).status).toBe(200);
  });
});

describe("RS256/ES256 with JWKS_URL", () => {
  let jwks: { keys: JWK[] } = { keys: [] };
  let fetches = 0;
  let server: Server;
  let jwksUrl: string;
  let app: Awaited<ReturnType<typeof startApp>>;
  const keys: Record<string, { privateKey: CryptoKey; publicKey: CryptoKey; alg: string }> = {};

  const sign = (kid: string, claims: Record<string, unknown> = {}) => {
    const k = keys[kid];
    if (!k) throw new Error(kid);
    return new SignJWT(claims).setProtectedHeader({ alg: k.alg, kid }).setSubject("user-2").setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime("5m").sign(k.privateKey);
  };
  const publish = async (...kids: string[]) => {
    jwks = { keys: await Promise.all(kids.map(async (kid) => ({ ...(await exportJWK(keys[kid]!.publicKey)), kid, alg: keys[kid]!.alg, use: "sig" }))) };
  };

  beforeAll(async () => {
    for (const [kid, alg] of [["rsa-1", "RS256"], ["ec-1", "ES256"], ["rsa-2", "RS256"], ["rogue", "RS256"]] as const) {
      keys[kid] = { ...(await generateKeyPair(alg, { extractable: true })), alg };
    }
    await publish("rsa-1", "ec-1");
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    app = await startApp(createJwtVerifier({ jwksUrl, issuer: ISSUER, audience: AUDIENCE, jwksCooldownMs: 0 }));
  });
  afterAll(async () => {
    await app.close();
    await new Promise((r) => server.close(r));
  });

  it("RS256 and ES256 tokens from the issuer's keys pass; the key set is fetched once", async () => {
    expect((await app.call("/me", await sign("rsa-1"))).status).toBe(200);
    expect((await app.call("/me", await sign("ec-1"))).body["owner"]).toBe("jwt:user-2");
    expect((await app.call("/me", await sign("rsa-1"))).status).toBe(200);
    expect(fetches).toBe(1);
  });

  it("a key the issuer never published is refused", async () => {
    const r = await app.call("/me", await sign("rogue"));
    expect(r.status).toBe(401);
  });

  it("algorithm confusion: HS256 'signed' with the issuer's public key is refused", async () => {
    const jwk = jwks.keys[0]!;
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", kid: "rsa-1" })
      .setSubject("admin")
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(JSON.stringify(jwk)));
    const r = await app.call("/me", forged);
    expect(r.status).toBe(401);
    expect(r.body["detail"]).toMatch(/algorithm/);
  });

  it("after the issuer rotates keys, tokens of the new key pass (the set is fetched again) and the retired key's fail", async () => {
    await publish("rsa-2");
    expect((await app.call("/me", await sign("rsa-2"))).status).toBe(200);
    expect(fetches).toBeGreaterThanOrEqual(2);
    expect((await app.call("/me", await sign("rsa-1"))).status).toBe(401);
  });

  it("an unreachable key set is 503 with Retry-After, not a 401", async () => {
    const dead = await startApp(createJwtVerifier({ jwksUrl: "http://127.0.0.1:9/jwks.json", jwksTimeoutMs: 1_000 }));
    try {
      const r = await dead.call("/me", await sign("rsa-1"));
      expect(r.status).toBe(503);
      expect(r.body["type"]).toMatch(/auth-unavailable$/);
    } finally {
      await dead.close();
    }
  });
});
