/**
 * Why a transcription failed. Each reason declares what it means (the errors seam): whether the
 * ASR box itself is at fault (counted by its breaker), whether the server accepted the file, and
 * whether sending it again may help. No caller turns a transcription failure into a 5xx of a
 * voice: the voice is kept for cross-lingual and the answer says why it has no transcript.
 */

/** What went wrong, as the log, the answers and the metrics name it. */
export type AsrFailure = "unreachable" | "failed" | "refused" | "timeout" | "breaker_open" | "empty";

const MEANING: Record<AsrFailure, { boxFault: boolean; accepted: boolean; resendable: boolean }> = {
  // Connection refused or reset before an answer: nothing was transcribed.
  unreachable: { boxFault: true, accepted: false, resendable: true },
  // A 5xx or an answer that is not a transcription.
  failed: { boxFault: true, accepted: true, resendable: true },
  // A 4xx: the server could not read this file; the same file will fail again.
  refused: { boxFault: false, accepted: true, resendable: false },
  timeout: { boxFault: true, accepted: true, resendable: true },
  // The breaker kept the call from being made.
  breaker_open: { boxFault: false, accepted: false, resendable: true },
  // The server worked and heard nothing: silence, music, or a language it does not know.
  empty: { boxFault: false, accepted: true, resendable: false },
};

/**
 * A transcription that produced no text.
 * @example if (err instanceof AsrError && err.resendable) retryLater();
 */
export class AsrError extends Error {
  override name = "AsrError";
  readonly code = "asr_unavailable" as const;
  readonly reason: AsrFailure;
  readonly boxFault: boolean;
  readonly accepted: boolean;
  readonly resendable: boolean;
  constructor(reason: AsrFailure, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.reason = reason;
    ({ boxFault: this.boxFault, accepted: this.accepted, resendable: this.resendable } = MEANING[reason]);
  }
}
