/**
 * What follows a failed job, as a pure function: whether another box may take it, and what the
 * failure says about the box. The SDK answers "may this be sent again?"; the pool adds only
 * what it alone knows (progress seen, the caller gave up).
 */
import { isSafeToResend } from "cosyvoice3-sdk";

/** A full UI queue stays full for about one job's time, so the box is passed over this long. @unit milliseconds */
export const QUEUE_FULL_COOL_DOWN_MS = 5_000;

/** The facts about one failure. */
export interface FailureFacts {
  /** The error's stable `code` (SDK or gateway). */
  code: string;
  /** The SDK says the box accepted nothing, so the job may be sent again. */
  safeToResend: boolean;
  /** The box reported progress (queued, started, a chunk): it took the job. */
  sawProgress: boolean;
  /** The caller's signal aborted (deadline, client gone, shutdown). */
  callerGaveUp: boolean;
}

/** What to do after a failure. */
export interface FailureDecision {
  /** Try another box with room (when there is none, the failure is the answer). */
  failOver: boolean;
  /** The box is gone or is not a CosyVoice UI any more. */
  markDown: boolean;
  /** Pass the box over for this long (its own queue is full). @unit milliseconds */
  coolDownMs: number;
}

/**
 * What a failure says about the box that gave it: refused or reset connections and a server
 * that is no CosyVoice UI mean it is down; a full UI queue means it is busy; anything else (a
 * warning, a failed job) says nothing about the box.
 * @example verdictOn("queue_full") // { markDown: false, coolDownMs: 5000 }
 */
export function verdictOn(code: string): { markDown: boolean; coolDownMs: number } {
  return {
    markDown: code === "connection" || code === "unsupported_backend",
    coolDownMs: code === "queue_full" ? QUEUE_FULL_COOL_DOWN_MS : 0,
  };
}

/**
 * A job moves to another box only when nothing of it ran: the SDK says it is safe to resend, no
 * progress was seen, and the caller still waits. A job a box accepted is never sent twice.
 * @example decideAfterFailure({ code: "connection", safeToResend: true, sawProgress: false, callerGaveUp: false }) // { failOver: true, markDown: true, coolDownMs: 0 }
 */
export function decideAfterFailure(f: FailureFacts): FailureDecision {
  return { failOver: f.safeToResend && !f.sawProgress && !f.callerGaveUp, ...verdictOn(f.code) };
}

/**
 * The SDK's answer to "may this be sent again?" for any thrown value (`isSafeToResend`): the UI
 * accepted nothing and the fault is the UI's, not the request's.
 * @example safeToResend(queueFullError) // true: the UI refused before a job id existed
 */
export function safeToResend(err: unknown): boolean {
  return isSafeToResend(err);
}

/** The stable `code` of any thrown value ("" when it has none). */
export const codeOf = (err: unknown): string => String((err as { code?: unknown } | null)?.code ?? "");
