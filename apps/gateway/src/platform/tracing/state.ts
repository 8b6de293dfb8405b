/**
 * Whether tracing was started, in a module of its own: the code that asks (the app, the pool)
 * loads no OpenTelemetry SDK by asking; `setup.ts`, which loads it, is imported only when an
 * OTLP endpoint is set.
 */
let active = false;

/** True while tracing is started: the gateway installs its span middleware and traced fetch only then. */
export function tracingEnabled(): boolean {
  return active;
}

/** Set by `startTracing` and its shutdown. @internal */
export function setTracingActive(on: boolean): void {
  active = on;
}
