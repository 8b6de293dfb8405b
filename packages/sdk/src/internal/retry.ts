/** Jittered exponential backoff and an abortable sleep, for retries where nothing was accepted yet. */

export interface BackoffPolicy {
  /** First delay before jitter. @unit milliseconds */
  baseMs: number;
  /** Largest delay. @unit milliseconds */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 8_000 };

/**
 * Delay before retry number `attempt` (0-based): exponential up to the cap, then "equal jitter"
 * (half fixed, half random) so that callers refused together do not come back together.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts; leaves no timer or listener. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
