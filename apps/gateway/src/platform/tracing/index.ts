export { startTracing, type Tracing, type TracingEnv } from "./setup.ts";
export { tracingEnabled } from "./state.ts";
export { inSpan, traceLogFields, traceRequests, tracer } from "./spans.ts";
export { tracedFetch } from "./fetch.ts";
