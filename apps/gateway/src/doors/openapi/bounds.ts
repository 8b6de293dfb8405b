/**
 * The ranges every number the gateway documents stays within. zod's `.int()` alone documents
 * ±2^53-1 (`Number.MAX_SAFE_INTEGER`), which tells a client nothing and makes generated clients
 * accept anything; each count, size, rate, duration and time here says what it really can be.
 * `openapi-document.test.ts` fails on any number in `openapi.yaml` without both bounds.
 */

/** Sample rates: telephone speech to the highest rate ffmpeg writes. @unit hertz */
export const SAMPLE_RATE = { min: 8_000, max: 384_000 } as const;
/** A clip's or a prompt's length: at most an hour (a 4,096-character /v1 input is minutes). @unit milliseconds */
export const DURATION_MS = { min: 0, max: 3_600_000 } as const;
/** A file or response size: WAV's own 32-bit size fields. @unit bytes */
export const BYTES = { min: 0, max: 4_294_967_295 } as const;
/** Chunks (sentences) of one clip. */
export const CHUNKS = { min: 0, max: 100_000 } as const;
/** Retry-After and its mirrors: at most the longest rate-limit window (RATE_LIMIT_WINDOW_MS, one day). @unit seconds */
export const RETRY_AFTER_SECONDS = { min: 0, max: 86_400 } as const;
/** Jobs running or waiting on one box (CONCURRENCY is at most 64, QUEUE_SIZE at most 1,000). */
export const JOBS = { min: 0, max: 1_064 } as const;
/** Built-in speakers of a model. */
export const SPEAKERS = { min: 0, max: 10_000 } as const;
/** Unix times (OpenAI's `created`, `created_at`): 1970 to 2100-01-01. @unit seconds */
export const UNIX_SECONDS = { min: 0, max: 4_102_444_800 } as const;
/** OpenAI usage counts: characters of a 4,096-character input; speech tokens at 25 per second of an hour. */
export const USAGE_TOKENS = { min: 0, max: 1_000_000 } as const;
