/**
 * One call's cancellation scope: the caller's AbortSignal, the deadline and the client's close()
 * folded into one signal whose reason is already the SDK error to throw.
 */
import { AbortError, TimeoutError, type CosyVoiceError } from "../errors.ts";

export interface CallScope {
  readonly signal: AbortSignal;
  /** Aborts the scope with `reason` (first reason wins). */
  abort(reason: CosyVoiceError): void;
  /** The SDK error of the abort, when the scope is aborted. */
  readonly reason: CosyVoiceError | undefined;
  /** Removes the timer and the listener on the caller's signal. */
  dispose(): void;
}

/** Creates the scope; `timeoutMs` counts from now and covers queue wait, synthesis and downloads. */
export function createScope(userSignal: AbortSignal | undefined, timeoutMs: number): CallScope {
  const ctl = new AbortController();
  const onUserAbort = () => ctl.abort(new AbortError({ cause: userSignal?.reason }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (userSignal?.aborted) onUserAbort();
  else {
    userSignal?.addEventListener("abort", onUserAbort, { once: true });
    if (Number.isFinite(timeoutMs)) timer = setTimeout(() => ctl.abort(new TimeoutError(timeoutMs)), timeoutMs);
  }
  return {
    signal: ctl.signal,
    abort: (reason) => {
      if (!ctl.signal.aborted) ctl.abort(reason);
    },
    get reason() {
      return ctl.signal.aborted ? (ctl.signal.reason as CosyVoiceError) : undefined;
    },
    dispose: () => {
      if (timer) clearTimeout(timer);
      userSignal?.removeEventListener("abort", onUserAbort);
    },
  };
}

/** Resolves with `promise`, or rejects with the signal's reason as soon as it aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e as Error);
      },
    );
  });
}
