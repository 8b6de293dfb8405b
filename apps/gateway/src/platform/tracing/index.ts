export { startTracing, tracingEnabled, type Tracing, type TracingEnv } from "./setup.ts";
export { inSpan, traceLogFields, traceRequests, tracer } from "./spans.ts";
export { tracedFetch } from "./fetch.ts";
