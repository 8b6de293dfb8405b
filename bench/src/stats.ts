/** Order statistics of latency samples. */

/** The q-quantile (0..1) of samples, nearest-rank. */
export function quantile(samples: readonly number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i] ?? Number.NaN;
}

/** Median, p90, p99, min, max and count of samples. @unit whatever the samples are in */
export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

/**
 * @example summarize([3, 1, 2]) // { n: 3, p50: 2, ... }
 */
export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    p50: round(quantile(samples, 0.5)),
    p90: round(quantile(samples, 0.9)),
    p99: round(quantile(samples, 0.99)),
    min: round(Math.min(...samples)),
    max: round(Math.max(...samples)),
  };
}

/** Rounds to `digits` decimals. */
export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Milliseconds an async function takes. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/**
 * Runs `count` tasks with at most `concurrency` in flight; returns their results in order.
 * @example await pool(32, 100, (i) => fetch(url))
 */
export async function pool<T>(concurrency: number, count: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out;
}
