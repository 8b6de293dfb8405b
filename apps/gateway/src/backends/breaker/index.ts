export { BackendBreaker, isBoxFault, type BackendBreakerOptions, type BreakerState, type BreakerTicket } from "./breaker.ts";
export { BreakerOpenError } from "./errors.ts";
