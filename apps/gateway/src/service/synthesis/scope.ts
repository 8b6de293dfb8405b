/**
 * The one signal a synthesis runs under: it aborts when the caller's signal does (client gone),
 * when the deadline passes, or when the gateway shuts down, and its reason is already the domain
 * error that says which.
 */
import { CallerGoneError, DeadlineExceededError, GatewayError, ShuttingDownError } from "../errors.ts";

/** Options of {@link jobScope}. */
export interface JobScopeOptions {
  /** The caller's signal; a reason that is a {@link GatewayError} is kept, any other becomes {@link CallerGoneError}. */
  signal?: AbortSignal | undefined;
  /** Deadline from now. @unit milliseconds */
  timeoutMs: number;
  shutdown?: AbortSignal | undefined;
}

/** A running job's signal and the way to end it. */
export interface JobScope {
  readonly signal: AbortSignal;
  /** The deadline, for the SDK's own timeout. @unit milliseconds */
  readonly timeoutMs: number;
  /**
   * What to throw for a failure: once the scope aborted, its reason (the SDK reports our own
   * abort as a plain AbortError; the reason says why: deadline, client gone, shutdown).
   */
  explain(err: unknown): unknown;
  /** Stops the timer and listeners, and aborts whatever still listens (the caller is done). */
  close(): void;
}

/**
 * The reason a finished call's scope aborts with, made once: whatever still listens only needs
 * to stop, and an error per request (its stack captured) cost measurably on the hot path.
 */
const CALL_ENDED = new CallerGoneError("The call ended");

/**
 * @example
 * const scope = jobScope({ signal: clientSignal, timeoutMs: 60_000, shutdown });
 * try { await work(scope.signal); } catch (err) { throw scope.explain(err); } finally { scope.close(); }
 */
export function jobScope(opts: JobScopeOptions): JobScope {
  const controller = new AbortController();
  // Whatever ends the scope first also lets go of the timer and of the caller's and the
  // shutdown's signals: a job that never ran (its stream answered from the cache) must not keep
  // a listener on the gateway-wide shutdown signal until its deadline.
  const abort = (reason: GatewayError) => {
    clearTimeout(timer);
    unlisten();
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const timer = setTimeout(() => abort(new DeadlineExceededError(opts.timeoutMs)), opts.timeoutMs);
  const unlisten = () => {
    opts.signal?.removeEventListener("abort", onCaller);
    opts.shutdown?.removeEventListener("abort", onShutdown);
  };
  const onCaller = () => {
    const reason: unknown = opts.signal?.reason;
    abort(reason instanceof GatewayError ? reason : new CallerGoneError());
  };
  const onShutdown = () => abort(new ShuttingDownError());
  opts.signal?.addEventListener("abort", onCaller, { once: true });
  opts.shutdown?.addEventListener("abort", onShutdown, { once: true });
  if (opts.shutdown?.aborted) onShutdown();
  if (opts.signal?.aborted) onCaller();
  return {
    signal: controller.signal,
    timeoutMs: opts.timeoutMs,
    explain: (err) => (controller.signal.aborted ? controller.signal.reason : err),
    close() {
      abort(CALL_ENDED);
    },
  };
}
