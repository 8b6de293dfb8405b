/** A box's health lives in the registry (one per box, whichever doors use it). */
export { downReason, Health, type BackendState } from "../registry/health.ts";
