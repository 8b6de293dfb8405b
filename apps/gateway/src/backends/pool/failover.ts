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
  /** The box failed the job itself (unreachable, a hidden error, an unusable answer, its deadline): not the input's fault. */
  boxFault?: boolean;
  /** Some of the job's audio already went to the caller. */
  yielded?: boolean;
  /** The job already moved once after a box had accepted it. */
  resentAfterAcceptance?: boolean;
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
 * A job moves to another box when nothing of it ran (the SDK says it is safe to resend and no
 * progress was seen), or, once, when a box accepted it and then failed it itself before any of
 * its audio reached the caller: TTS has no side effects, so running it again elsewhere harms
 * nothing, and the caller gets audio instead of a 502. After the first byte, the failure is the
 * caller's; a failure the input caused is never sent again; nor is anything once the caller gave up.
 * @example decideAfterFailure({ code: "connection", safeToResend: true, sawProgress: false, callerGaveUp: false }) // { failOver: true, markDown: true, coolDownMs: 0, afterAcceptance: false }
 * @example decideAfterFailure({ code: "upstream", safeToResend: false, sawProgress: true, callerGaveUp: false, boxFault: true, yielded: false }) // { failOver: true, ..., afterAcceptance: true }
 */
export function decideAfterFailure(f: FailureFacts): FailureDecision & { afterAcceptance: boolean } {
  const unsent = f.safeToResend && !f.sawProgress;
  const resend = !unsent && f.boxFault === true && f.yielded !== true && f.resentAfterAcceptance !== true;
  return { failOver: !f.callerGaveUp && (unsent || resend), afterAcceptance: !f.callerGaveUp && resend, ...verdictOn(f.code) };
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
