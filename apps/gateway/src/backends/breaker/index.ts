export { BackendBreaker, isBoxFault, type BackendBreakerOptions, type BreakerState, type BreakerTicket, type PoolBreaker } from "./breaker.ts";
export { SharedBreaker, type SharedBreakerOptions } from "./shared-breaker.ts";
export { BreakerOpenError } from "./errors.ts";
