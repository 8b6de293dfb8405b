/** Who a request speaks for, as `authenticate()` leaves it on `res.locals.principal`. */

/** Route scopes a JWT's `scope` claim may grant; `admin` grants them all. */
export type Scope = "synthesize" | "voices:write" | "admin";

/** The caller of one request. */
export interface Principal {
  /**
   * Opaque owner of the voices and clips it creates: `key:<fingerprint>` for an API key,
   * `jwt:<sub>` for a token.
   */
  owner: string;
  via: "api_key" | "jwt";
  /** Scopes the token grants; undefined means unrestricted (an API key, or a token without `scope`). */
  scopes?: ReadonlySet<string>;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** Set by `authenticate()` when the request carried a valid key or token. */
      principal?: Principal;
    }
  }
}

/**
 * Whether the principal may use a route that needs `scope`.
 * @example allows({ owner: "jwt:u1", via: "jwt", scopes: new Set(["synthesize"]) }, "voices:write") // false
 */
export function allows(principal: Principal | undefined, scope: Scope): boolean {
  if (principal?.scopes === undefined) return true;
  return principal.scopes.has(scope) || principal.scopes.has("admin");
}
