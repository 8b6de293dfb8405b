export { authenticate, requireScope, type AuthenticateOptions } from "./authenticate.ts";
export { createJwtVerifier, looksLikeJwt, JwtRejectedError, JwksUnavailableError, type JwtVerifier, type JwtVerifierOptions, type JwtIdentity } from "./jwt.ts";
export { allows, type Principal, type Scope } from "./principal.ts";
