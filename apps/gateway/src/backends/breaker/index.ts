export { BackendBreaker, isBoxFault, ticketOf, type BackendBreakerOptions, type BoxBreaker, type BreakerState, type BreakerTicket, type PoolBreaker } from "./breaker.ts";
export { SharedBreaker, type SharedBreakerOptions } from "./shared-breaker.ts";
export { BreakerOpenError } from "./errors.ts";
