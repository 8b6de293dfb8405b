/**
 * The gateway's domain errors. Each carries a stable `code` (the key of its problem kind at the
 * HTTP edge) and what a caller can act on (`retryAfterMs`, `issues`); their messages are written
 * for clients (no URL, path or stack). Only the doors (REST `problems.ts`, the OpenAI route,
 * the passthrough) turn a `code` into their own answer; nothing here knows HTTP.
 */

/** Stable codes of the gateway's own domain errors. */
export type GatewayErrorCode =
  | "busy"
  | "breaker_open"
  | "store_unavailable"
  | "voice_not_found"
  | "voice_mode_mismatch"
  | "voice_read_only"
  | "invalid_request"
  | "deadline_exceeded"
  | "shutting_down"
  | "aborted"
  | "upstream"
  | "encoders_busy"
  | "encode_failed"
  | "unsupported_mode";

/** One problem with an input field: `path` names it (`["instruct"]`), `code` says what is wrong. */
export interface InputIssue {
  path: (string | number)[];
  message: string;
  code: string;
}

/**
 * Base of every domain error the gateway throws.
 * @example if (err instanceof GatewayError && err.code === "busy") retryLater(err.retryAfterMs);
 */
export class GatewayError extends Error {
  override name = "GatewayError";
  readonly code: GatewayErrorCode;
  /** Field-level problems, when the input is at fault. */
  readonly issues: readonly InputIssue[] | undefined;
  /** A suggested wait before retrying, when retrying later may help. @unit milliseconds */
  readonly retryAfterMs: number | undefined;
  /**
   * Whether a box may have taken the job. False for everything refused or cancelled before any
   * answer could be used (a resend runs it once). Read with the other two through `faultOf`.
   */
  readonly accepted: boolean = false;
  /** The same request can succeed when sent again (later, or to another box or instance). */
  readonly resendable: boolean = false;
  /** The box failed the job (not the input, not the caller): a circuit breaker counts it. */
  readonly boxFault: boolean = false;
  constructor(code: GatewayErrorCode, message: string, opts: { cause?: unknown; issues?: InputIssue[]; retryAfterMs?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.issues = opts.issues;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/**
 * Every job slot and wait place of the chosen backend is taken; nothing was sent. Retry later.
 * @example throw new CapacityError(4_000, "2 jobs are running and 2 waiting");
 */
export class CapacityError extends GatewayError {
  override name = "CapacityError";
  override readonly resendable = true;
  declare readonly retryAfterMs: number;
  constructor(retryAfterMs: number, why: string) {
    super("busy", `${why}; retry in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s`, { retryAfterMs });
  }
}

/**
 * A shared store (Redis) did not answer; nothing was changed that the caller can see. Retry shortly.
 * @example throw new StoreUnavailableError("voice list", { cause: err });
 */
export class StoreUnavailableError extends GatewayError {
  override name = "StoreUnavailableError";
  override readonly resendable = true;
  declare readonly retryAfterMs: number;
  constructor(what: string, opts: { cause?: unknown } = {}) {
    super("store_unavailable", `The shared store did not answer (${what}); retry shortly`, { ...opts, retryAfterMs: 1_000 });
  }
}

/**
 * No voice with this id for this owner (another owner's voice is just as unknown).
 * @example throw new VoiceNotFoundError("v_0123456789abcdefghijkl");
 */
export class VoiceNotFoundError extends GatewayError {
  override name = "VoiceNotFoundError";
  readonly voiceId: string;
  /** `hint` says where the right id comes from, e.g. that this backend has no built-in speakers. */
  constructor(voiceId: string, hint?: string) {
    super("voice_not_found", `No voice with id ${JSON.stringify(voiceId.slice(0, 200))}${hint ? `: ${hint}` : ""}`);
    this.voiceId = voiceId;
  }
}

/**
 * The voice cannot be used in the requested mode (e.g. clone mode with a voice saved without a
 * transcript). Fix the input: another mode or voice.
 * @example throw new VoiceModeMismatchError("builtin:中文女", "clone", "clone mode needs a saved voice");
 */
export class VoiceModeMismatchError extends GatewayError {
  override name = "VoiceModeMismatchError";
  readonly mode: string;
  constructor(voiceId: string, mode: string, why: string) {
    super("voice_mode_mismatch", `Voice ${voiceId} cannot be used in ${mode} mode: ${why}`, {
      issues: [{ path: ["mode"], message: why, code: "voice_mode_mismatch" }],
    });
    this.mode = mode;
  }
}

/**
 * Built-in voices belong to the model and cannot be deleted.
 * @example throw new VoiceReadOnlyError();
 */
export class VoiceReadOnlyError extends GatewayError {
  override name = "VoiceReadOnlyError";
  constructor() {
    super("voice_read_only", "Built-in voices belong to the model and cannot be deleted");
  }
}

/**
 * The synthesis input is inconsistent (e.g. `instruct` outside instruct mode). Fix the input.
 * @example throw new SynthesisInputError([{ path: ["instruct"], message: "instruct mode needs an instruction", code: "required" }]);
 */
export class SynthesisInputError extends GatewayError {
  override name = "SynthesisInputError";
  constructor(issues: InputIssue[]) {
    super("invalid_request", issues.map((i) => i.message).join("; "), { issues });
  }
}

/**
 * The synthesis did not finish within its deadline; the backend job was cancelled.
 * @example controller.abort(new DeadlineExceededError(60_000));
 */
export class DeadlineExceededError extends GatewayError {
  override name = "DeadlineExceededError";
  override readonly accepted = true;
  /** @unit milliseconds */
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super("deadline_exceeded", `The backend did not finish within ${timeoutMs} ms; the job was cancelled`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The gateway is stopping; the job was cancelled. Retry on another instance.
 * @example controller.abort(new ShuttingDownError());
 */
export class ShuttingDownError extends GatewayError {
  override name = "ShuttingDownError";
  /** Cancelled before its answer could be used: a resend (to another instance) runs it once. */
  override readonly resendable = true;
  constructor() {
    super("shutting_down", "The gateway is shutting down; the job was cancelled");
  }
}

/**
 * The caller went away (client disconnect); the job was cancelled. Nobody reads this answer.
 * @example controller.abort(new CallerGoneError());
 */
export class CallerGoneError extends GatewayError {
  override name = "CallerGoneError";
  override readonly accepted = true;
  constructor(why = "The client disconnected") {
    super("aborted", why);
  }
}

/**
 * The backend ended a job without any audio.
 * @example throw new NoAudioError();
 */
export class NoAudioError extends GatewayError {
  override name = "NoAudioError";
  override readonly accepted = true;
  override readonly boxFault = true;
  constructor() {
    super("upstream", "The backend produced no audio");
  }
}
