/**
 * The registry of boxes (`registry.ts`): one {@link Box} per address (`box.ts`), its health
 * (`health.ts`, one check per box), its check when no driver speaks for it (`http-probe.ts`),
 * what its service is called (`services.ts`), and its URL without credentials (`redact.ts`).
 */
export { Box, POOL_DOORS, type BoxKind, type BoxStatus, type Door } from "./box.ts";
export { BoxRegistry, boxKey, type BoxEntry, type BoxRegistryOptions } from "./registry.ts";
export { downReason, Health, type BackendState } from "./health.ts";
export { redactError, redactText, redactUrl } from "./redact.ts";
export { boxKindOf, boxTitle, serviceOf, tagBoxKind, titleForCode } from "./services.ts";
export type { BoxBreaker } from "../breaker/breaker.ts";
