/**
 * JWT verification with jose: an HS256 shared secret, or an issuer's JWKS (RS256/ES256) fetched
 * on first use, cached, and fetched again when a token names a key id it does not hold (the
 * issuer rotated its keys). The accepted algorithms are pinned per key kind, so `alg: none` and
 * algorithm confusion (an HS256 token "signed" with the issuer's public key) are refused.
 */
import type * as Jose from "jose";
import type { JWTPayload, JWTVerifyGetKey } from "jose";

// jose itself is loaded when a verifier is made (JWT configured), not with the gateway (RSS at start).

/** Options of {@link createJwtVerifier}; exactly one of `secret` and `jwksUrl`. */
export interface JwtVerifierOptions {
  /** HS256 shared secret (at least 32 bytes). */
  secret?: string;
  /** The issuer's JSON Web Key Set (RS256 and ES256 keys). */
  jwksUrl?: string;
  /** Required `iss`, when given. */
  issuer?: string;
  /** Required `aud` (one of the token's audiences), when given. */
  audience?: string;
  /** Allowed clock difference for `exp`, `nbf` and `iat`. @default 30 @unit seconds */
  clockToleranceSec?: number;
  /** How long a fetched key set is used before it is fetched again. @default 600_000 @unit milliseconds */
  jwksCacheMaxAgeMs?: number;
  /** Least time between two fetches of the key set (an unknown `kid` refetches no sooner). @default 30_000 @unit milliseconds */
  jwksCooldownMs?: number;
  /** Deadline of one key set fetch. @default 5_000 @unit milliseconds */
  jwksTimeoutMs?: number;
}

/** Who a verified token speaks for. */
export interface JwtIdentity {
  /** The `sub` claim. */
  subject: string;
  /** The `scope` claim split on spaces (or a `scope`/`scp` array); undefined when the token has none. */
  scopes: ReadonlySet<string> | undefined;
}

/** Why a token was refused; `reason` is safe to show the client. */
export class JwtRejectedError extends Error {
  override name = "JwtRejectedError";
  readonly code = "invalid_token" as const;
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
  }
}

/** The issuer's key set could not be fetched: not the client's fault, retry later. */
export class JwksUnavailableError extends Error {
  override name = "JwksUnavailableError";
  readonly code = "auth_unavailable" as const;
  constructor(options?: { cause?: unknown }) {
    super("The token issuer's signing keys could not be fetched", options);
  }
}

/** Verifies one compact JWS token. */
export interface JwtVerifier {
  /**
   * @throws JwtRejectedError when the token is not valid, JwksUnavailableError when keys cannot be had
   */
  verify(token: string): Promise<JwtIdentity>;
}

const HMAC_ALGS = ["HS256"];
const PUBLIC_KEY_ALGS = ["RS256", "ES256"];

function scopesOf(payload: JWTPayload): ReadonlySet<string> | undefined {
  const raw = payload["scope"] ?? payload["scp"];
  if (raw === undefined) return undefined;
  const list = typeof raw === "string" ? raw.split(" ") : Array.isArray(raw) ? raw.filter((s): s is string => typeof s === "string") : [];
  return new Set(list.filter((s) => s !== ""));
}

function explain(err: unknown, errors: typeof Jose.errors): Error {
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return new JwksUnavailableError({ cause: err });
  if (err instanceof errors.JWTExpired) return new JwtRejectedError("The token has expired", { cause: err });
  if (err instanceof errors.JWTClaimValidationFailed) return new JwtRejectedError(`The token's "${err.claim}" claim is not accepted`, { cause: err });
  if (err instanceof errors.JWSSignatureVerificationFailed) return new JwtRejectedError("The token's signature does not verify", { cause: err });
  if (err instanceof errors.JOSEAlgNotAllowed) return new JwtRejectedError("The token's algorithm is not accepted", { cause: err });
  if (err instanceof errors.JWKSNoMatchingKey) return new JwtRejectedError("The token is not signed by a key of the issuer", { cause: err });
  if (err instanceof errors.JOSEError) return new JwtRejectedError("The token is not a valid JWT", { cause: err });
  // A failed fetch of the key set surfaces as a plain TypeError from fetch.
  if (err instanceof TypeError) return new JwksUnavailableError({ cause: err });
  return new JwtRejectedError("The token is not a valid JWT", { cause: err });
}

/**
 * @example
 * const jwt = createJwtVerifier({ jwksUrl: "https://id.example.com/.well-known/jwks.json", issuer: "https://id.example.com/", audience: "tts" });
 * const { subject, scopes } = await jwt.verify(token);
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  if ((options.secret === undefined) === (options.jwksUrl === undefined)) throw new Error("give exactly one of secret and jwksUrl");
  const common = {
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
    clockTolerance: options.clockToleranceSec ?? 30,
    // A token without an expiry would be good forever once leaked.
    requiredClaims: ["sub", "exp"],
  };
  const jwksUrl = options.jwksUrl !== undefined ? new URL(options.jwksUrl) : undefined;
  // One verifying function, made once jose has loaded (the key set is shared by every call).
  const ready = import("jose").then((jose) => {
    let run: (token: string) => Promise<JWTPayload>;
    if (jwksUrl === undefined) {
      const key = new TextEncoder().encode(options.secret);
      run = async (token) => (await jose.jwtVerify(token, key, { ...common, algorithms: HMAC_ALGS })).payload;
    } else {
      const keys: JWTVerifyGetKey = jose.createRemoteJWKSet(jwksUrl, {
        cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
        cooldownDuration: options.jwksCooldownMs ?? 30_000,
        timeoutDuration: options.jwksTimeoutMs ?? 5_000,
      });
      run = async (token) => (await jose.jwtVerify(token, keys, { ...common, algorithms: PUBLIC_KEY_ALGS })).payload;
    }
    return { run, errors: jose.errors };
  });
  // A failed load is each verify()'s error, not an unhandled rejection before the first token.
  ready.catch(() => undefined);
  return {
    async verify(token) {
      const { run, errors } = await ready;
      let payload: JWTPayload;
      try {
        payload = await run(token);
      } catch (err) {
        throw explain(err, errors);
      }
      if (typeof payload.sub !== "string" || payload.sub === "" || payload.sub.length > 256) throw new JwtRejectedError('The token\'s "sub" claim is not accepted');
      return { subject: payload.sub, scopes: scopesOf(payload) };
    },
  };
}

/** True when the string has the shape of a compact JWS (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}
