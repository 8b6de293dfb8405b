/**
 * Errors of the encoders. Each carries a stable `code` that the HTTP edges map (REST problem
 * table, OpenAI's error shape); none of them knows about HTTP.
 */

/**
 * Every encoder is taken. Raised before any synthesis starts, so retrying runs nothing twice.
 * @example if (err instanceof EncodersBusyError) res.set("Retry-After", String(Math.ceil(err.retryAfterMs / 1000)));
 */
export class EncodersBusyError extends Error {
  override name = "EncodersBusyError";
  readonly code = "encoders_busy";
  /** @unit milliseconds */
  readonly retryAfterMs: number;
  constructor(max: number, retryAfterMs = 1_000) {
    super(`All ${max} audio encoders are in use; retry shortly`);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * ffmpeg failed (would not start, or exited with an error while encoding). The message holds
 * ffmpeg's last words for the log; the HTTP edges do not show it.
 * @example throw new EncodeError("ffmpeg exited with 1", { cause: err });
 */
export class EncodeError extends Error {
  override name = "EncodeError";
  readonly code = "encode_failed";
}
