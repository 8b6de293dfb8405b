/**
 * Errors of the encoders: gateway domain errors with a stable `code` that the HTTP edges map
 * (REST problem table, OpenAI's error shape); none of them knows about HTTP.
 */
import { GatewayError } from "../errors.ts";

/**
 * Every encoder is taken. Raised before any synthesis starts, so retrying runs nothing twice.
 * @example if (err instanceof EncodersBusyError) res.set("Retry-After", String(Math.ceil(err.retryAfterMs / 1000)));
 */
export class EncodersBusyError extends GatewayError {
  override name = "EncodersBusyError";
  override readonly resendable = true;
  declare readonly retryAfterMs: number;
  constructor(max: number, retryAfterMs = 1_000) {
    super("encoders_busy", `All ${max} audio encoders are in use; retry shortly`, { retryAfterMs });
  }
}

/**
 * ffmpeg failed (would not start, or exited with an error while encoding). The message is for
 * clients; ffmpeg's own last words are in `ffmpeg` (for the log only).
 * @example throw new EncodeError("ffmpeg exited with 1", "pipe:0: Invalid data found");
 */
export class EncodeError extends GatewayError {
  override name = "EncodeError";
  override readonly accepted = true;
  readonly ffmpeg: string;
  constructor(why: string, ffmpeg = "", opts: { cause?: unknown } = {}) {
    super("encode_failed", `The audio could not be encoded (${why})`, opts);
    this.ffmpeg = ffmpeg;
  }
}
