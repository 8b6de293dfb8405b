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

/** Base class of every error thrown by the SDK. */
export class CosyVoiceError extends Error {
  override name = "CosyVoiceError";
  /** Stable code of the error class. */
  readonly code: CosyVoiceErrorCode = "upstream";
  /** True when the same call may succeed if simply retried later. */
  readonly retryable: boolean = false;
  /**
   * False when the UI certainly accepted nothing (refused before a job id existed, or nothing was
   * sent), so the job may safely be sent again, to this UI or another. True when it may have run.
   */
  accepted = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
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
  constructor(issues: ValidationIssue[], options?: { cause?: unknown }) {
    super(
      `Invalid request: ${issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`,
      options,
    );
    this.issues = issues;
    this.accepted = false;
  }
}

/** The connected UI variant/model cannot do the requested mode; nothing was queued. */
export class UnsupportedModeError extends CosyVoiceError {
  override name = "UnsupportedModeError";
  override readonly code = "unsupported_mode" as const;
  readonly mode: string;
  readonly variant: string;
  constructor(mode: string, variant: string, reason: string, options?: { cause?: unknown }) {
    super(`Mode "${mode}" is not available on the ${variant} UI: ${reason}`, options);
    this.accepted = false;
    this.mode = mode;
    this.variant = variant;
  }
}

/** The server at the URL is not a CosyVoice web UI the SDK recognises (thrown by `connect`). */
export class UnsupportedBackendError extends CosyVoiceError {
  override name = "UnsupportedBackendError";
  override readonly code = "unsupported_backend" as const;
  /** What was found: gradio version, endpoint names, parameter labels. */
  readonly found: Record<string, unknown>;
  constructor(message: string, found: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
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
  constructor(warning: string, options?: { cause?: unknown }) {
    super(`The CosyVoice UI rejected the input: ${warning}`, options);
    this.warning = warning;
  }
}

/** The UI's queue is full (HTTP 503 on queue/join); no job was accepted. Retry later. */
export class QueueFullError extends CosyVoiceError {
  override name = "QueueFullError";
  override readonly code = "queue_full" as const;
  override readonly retryable = true;
  /** A suggested wait before retrying. @unit milliseconds */
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, options?: { cause?: unknown }) {
    super(`The CosyVoice queue is full; retry in about ${Math.ceil(retryAfterMs / 1000)} s`, options);
    this.retryAfterMs = retryAfterMs;
  }
}

/** The call exceeded its deadline; the upstream job was cancelled. */
export class TimeoutError extends CosyVoiceError {
  override name = "TimeoutError";
  override readonly code = "timeout" as const;
  override readonly retryable = true;
  /** @unit milliseconds */
  readonly timeoutMs: number;
  constructor(timeoutMs: number, options?: { cause?: unknown }) {
    super(`CosyVoice did not finish within ${timeoutMs} ms; the job was cancelled`, options);
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's AbortSignal fired; the upstream job was cancelled. */
export class AbortError extends CosyVoiceError {
  override name = "AbortError";
  override readonly code = "aborted" as const;
  constructor(options?: { cause?: unknown }) {
    super("The request was aborted; the job was cancelled", options);
  }
}

/** The web UI could not be reached (refused, reset, DNS, TLS) or went away mid-job. */
export class ConnectionError extends CosyVoiceError {
  override name = "ConnectionError";
  override readonly code = "connection" as const;
  override readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
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
  readonly detail: string | undefined;
  constructor(message: string, detail?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.detail = detail;
  }
}
