/**
 * What follows a failed job, as a pure function: whether another box may take it, and what the
 * failure says about the box. The error declares what it means (`faultOf`: accepted,
 * resendable, boxDown, boxBusy); the pool adds only what it alone knows (progress seen, the
 * caller gave up).
 */
import { faultOf, type Fault } from "../faults.ts";

export { safeToResend } from "../faults.ts";

/** A full UI queue stays full for about one job's time, so the box is passed over this long. @unit milliseconds */
export const QUEUE_FULL_COOL_DOWN_MS = 5_000;

/** The facts about one failure. */
export interface FailureFacts {
  /** What the error declares. */
  fault: Fault;
  /** The box reported progress (queued, started, a chunk): it took the job. */
  sawProgress: boolean;
  /** The caller's signal aborted (deadline, client gone, shutdown). */
  callerGaveUp: boolean;
  /** Some of the job's audio already went to the caller. */
  yielded?: boolean;
  /** The job already moved once after a box had accepted it. */
  resentAfterAcceptance?: boolean;
}

/** What to do after a failure. */
export interface FailureDecision {
  /** Try another box with room (when there is none, the failure is the answer). */
  failOver: boolean;
  /** The box is gone or is not what it was taken for. */
  markDown: boolean;
  /** Pass the box over for this long (its own queue is full). @unit milliseconds */
  coolDownMs: number;
}

/**
 * What a failure says about the box that gave it, as the error declares: gone (refused, reset,
 * unrecognised) means down; no room means busy for a while; anything else (a warning, a failed
 * job) says nothing about the box's reachability.
 * @example verdictOn(faultOf(new QueueFullError(1000))) // { markDown: false, coolDownMs: 5000 }
 */
export function verdictOn(fault: Pick<Fault, "boxDown" | "boxBusy">): { markDown: boolean; coolDownMs: number } {
  return { markDown: fault.boxDown, coolDownMs: fault.boxBusy ? QUEUE_FULL_COOL_DOWN_MS : 0 };
}

/**
 * A job moves to another box when nothing of it ran (the error says nothing was accepted and the
 * request is not at fault, and no progress was seen), or, once, when a box accepted it and then
 * failed it itself (a box fault) before any of its audio reached the caller: TTS has no side
 * effects, so running it again elsewhere harms nothing, and the caller gets audio instead of a
 * 502. After the first byte the failure is the caller's; a failure the input caused is never
 * sent again; nor is anything once the caller gave up.
 * @example decideAfterFailure({ fault: faultOf(refused), sawProgress: false, callerGaveUp: false }) // { failOver: true, markDown: true, coolDownMs: 0, afterAcceptance: false }
 * @example decideAfterFailure({ fault: faultOf(failedOnTheBox), sawProgress: true, callerGaveUp: false, yielded: false }) // { failOver: true, ..., afterAcceptance: true }
 */
export function decideAfterFailure(f: FailureFacts): FailureDecision & { afterAcceptance: boolean } {
  const unsent = !f.fault.accepted && f.fault.resendable && !f.sawProgress;
  const resend = !unsent && f.fault.boxFault && f.yielded !== true && f.resentAfterAcceptance !== true;
  return { failOver: !f.callerGaveUp && (unsent || resend), afterAcceptance: !f.callerGaveUp && resend, ...verdictOn(f.fault) };
}

/** The stable `code` of any thrown value ("" when it has none). */
export const codeOf = (err: unknown): string => faultOf(err).code;
