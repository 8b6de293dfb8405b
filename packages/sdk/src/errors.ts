/**
 * The SDK's error hierarchy. Every error the client throws is a {@link CosyVoiceError}; the
 * subclass says what the caller can do about it (fix the input, retry later, give up).
 * Each class carries a stable `code` so that callers (and the gateway) can map errors through a
 * table instead of `instanceof` chains.
 */

/** Stable machine-readable codes, one per error class. */
export type CosyVoiceErrorCode =
  | "validation"
  | "unsupported_mode"
  | "unsupported_backend"
  | "upstream_warning"
  | "queue_full"
  | "timeout"
  | "aborted"
  | "connection"
  | "upstream";

/** Options every SDK error takes. */
export interface CosyVoiceErrorOptions {
  cause?: unknown;
  /**
   * Whether the UI may have accepted the job. Only the classes whose failure can happen on either
   * side of the join (connection, timeout, abort, upstream) take it; the others know. @default true
   */
  accepted?: boolean;
}

/** Base class of every error thrown by the SDK. */
export class CosyVoiceError extends Error {
  override name = "CosyVoiceError";
  /** Stable code of the error class. */
  readonly code: CosyVoiceErrorCode = "upstream";
  /** True when the same call may succeed if simply retried later, against the same UI. */
  readonly retryable: boolean = false;
  /**
   * False when the UI certainly accepted nothing (refused before a job id existed, or nothing was
   * sent), so the job may safely be sent again, to this UI or another. True when it may have run.
   * Set once, in the constructor.
   */
  readonly accepted: boolean;
  /**
   * True when the failure lies with the UI rather than with the request, so that the same request,
   * if the UI accepted nothing, can succeed when sent again (later, or to another UI). Each class
   * states its own answer; read it through {@link isSafeToResend}.
   */
  readonly resendable: boolean = false;
  /**
   * True when the failure says the box itself failed the job (unreachable, a hidden error, an
   * unusable answer, its own deadline), not the input or the caller: a circuit breaker counts it.
   */
  readonly boxFault: boolean = false;
  /**
   * True when the box is gone or is not what it was taken for (refused, reset, unrecognised):
   * a pool marks it down and a client connects afresh next time.
   */
  readonly boxDown: boolean = false;
  /** True when the box refused for want of room (its own queue is full): pass it over a while. */
  readonly boxBusy: boolean = false;
  constructor(message: string, options: CosyVoiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.accepted = options.accepted ?? true;
  }
}

/**
 * The one answer to "may this job be sent again?": true when the UI certainly accepted nothing
 * (so nothing runs twice) and the failure lies with the UI, not the request (so another attempt,
 * later or at another UI, can succeed). False for anything that is not an SDK error.
 *
 * @example
 * ```ts
 * try {
 *   return await primary.synthesize(request);
 * } catch (err) {
 *   if (isSafeToResend(err)) return await secondary.synthesize(request); // queue full, connection refused, ...
 *   throw err; // the UI may have run it, or the request itself is at fault
 * }
 * ```
 */
export function isSafeToResend(err: unknown): boolean {
  return err instanceof CosyVoiceError && !err.accepted && err.resendable;
}

/** One problem with a request field. `path` points at the field, e.g. `["promptAudio"]`. */
export interface ValidationIssue {
  path: (string | number)[];
  message: string;
  /** A short code, e.g. `too_small`, `sample_rate`, `duration`, `not_audio`, `required`. */
  code: string;
}

/** The request is invalid; nothing was sent upstream. Fix the input. */
export class ValidationError extends CosyVoiceError {
  override name = "ValidationError";
  override readonly code = "validation" as const;
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[], options: { cause?: unknown } = {}) {
    super(`Invalid request: ${issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`, {
      ...options,
      accepted: false,
    });
    this.issues = issues;
  }
}

/** The connected UI variant/model cannot do the requested mode; nothing was queued. */
export class UnsupportedModeError extends CosyVoiceError {
  override name = "UnsupportedModeError";
  override readonly code = "unsupported_mode" as const;
  /** Another UI (another variant or model) may have the mode. */
  override readonly resendable = true;
  readonly mode: string;
  readonly variant: string;
  constructor(mode: string, variant: string, reason: string, options: { cause?: unknown } = {}) {
    super(`Mode "${mode}" is not available on the ${variant} UI: ${reason}`, { ...options, accepted: false });
    this.mode = mode;
    this.variant = variant;
  }
}

/** The server at the URL is not a CosyVoice web UI the SDK recognises (thrown by `connect`). */
export class UnsupportedBackendError extends CosyVoiceError {
  override name = "UnsupportedBackendError";
  override readonly code = "unsupported_backend" as const;
  /** Another UI (a CosyVoice one) may take the job. */
  override readonly resendable = true;
  override readonly boxFault = true;
  override readonly boxDown = true;
  /** What was found: gradio version, endpoint names, parameter labels. */
  readonly found: Record<string, unknown>;
  constructor(message: string, found: Record<string, unknown>, options: { cause?: unknown } = {}) {
    // Found at connect time, before any job was sent.
    super(message, { ...options, accepted: false });
    this.found = found;
  }
}

/**
 * The UI raised a `gr.Warning` (its way of reporting invalid input). The UI then yields one
 * second of silence; the SDK never returns that silence as audio.
 */
export class UpstreamWarningError extends CosyVoiceError {
  override name = "UpstreamWarningError";
  override readonly code = "upstream_warning" as const;
  /** The warning text as the UI wrote it (often Chinese on the official UI). */
  readonly warning: string;
  constructor(warning: string, options: { cause?: unknown } = {}) {
    // The UI ran the job to say so.
    super(`The CosyVoice UI rejected the input: ${warning}`, { ...options, accepted: true });
    this.warning = warning;
  }
}

/** The UI's queue is full (HTTP 503 on queue/join); no job was accepted. Retry later. */
export class QueueFullError extends CosyVoiceError {
  override name = "QueueFullError";
  override readonly code = "queue_full" as const;
  override readonly retryable = true;
  override readonly resendable = true;
  override readonly boxBusy = true;
  /** A suggested wait before retrying. @unit milliseconds */
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, options: { cause?: unknown } = {}) {
    // The join was refused: no event id, no job.
    super(`The CosyVoice queue is full; retry in about ${Math.ceil(retryAfterMs / 1000)} s`, { ...options, accepted: false });
    this.retryAfterMs = retryAfterMs;
  }
}

/** The call exceeded its deadline; the upstream job was cancelled. */
export class TimeoutError extends CosyVoiceError {
  override name = "TimeoutError";
  override readonly code = "timeout" as const;
  override readonly retryable = true;
  override readonly boxFault = true;
  /** @unit milliseconds */
  readonly timeoutMs: number;
  constructor(timeoutMs: number, options?: CosyVoiceErrorOptions) {
    super(`CosyVoice did not finish within ${timeoutMs} ms; the job was cancelled`, options);
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's AbortSignal fired; the upstream job was cancelled. */
export class AbortError extends CosyVoiceError {
  override name = "AbortError";
  override readonly code = "aborted" as const;
  constructor(options?: CosyVoiceErrorOptions) {
    super("The request was aborted; the job was cancelled", options);
  }
}

/** The web UI could not be reached (refused, reset, DNS, TLS) or went away mid-job. */
export class ConnectionError extends CosyVoiceError {
  override name = "ConnectionError";
  override readonly code = "connection" as const;
  override readonly retryable = true;
  override readonly resendable = true;
  override readonly boxFault = true;
  override readonly boxDown = true;
  /** Pass `accepted: false` when it failed before the UI gave the job an id. */
  constructor(message: string, options?: CosyVoiceErrorOptions) {
    super(message, options);
  }
}

/**
 * The UI failed the job: a hidden Python exception (`{"error": null}`), a visible `gr.Error`,
 * or a response the SDK could not use. `detail` has what context there is.
 */
export class UpstreamError extends CosyVoiceError {
  override name = "UpstreamError";
  override readonly code = "upstream" as const;
  override readonly boxFault = true;
  readonly detail: string | undefined;
  constructor(message: string, detail?: string, options?: CosyVoiceErrorOptions) {
    super(message, options);
    this.detail = detail;
  }
}
