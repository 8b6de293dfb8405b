/**
 * What a failure means, as each error class declares it (the SDK's and the gateway's): nothing
 * here lists codes. A value that declares nothing (a bug, a plain `Error`) is taken as the worst
 * safe case: it may have run, it says nothing about the box, and it is not sent again.
 */

/** What a failed job says, read from the error. */
export interface Fault {
  /** The error's stable `code` ("" when it has none), for logs and metrics only. */
  code: string;
  /** A box may have taken the job. */
  accepted: boolean;
  /** The same request can succeed when sent again (later, or elsewhere). */
  resendable: boolean;
  /** The box failed the job: a breaker counts it. */
  boxFault: boolean;
  /** The box is gone or is not what it was taken for: mark it down, connect afresh. */
  boxDown: boolean;
  /** The box refused for want of room: pass it over a while. */
  boxBusy: boolean;
}

const flag = (err: unknown, name: keyof Fault, fallback: boolean): boolean => {
  const v = (err as Record<string, unknown> | null)?.[name];
  return typeof v === "boolean" ? v : fallback;
};

/**
 * @example faultOf(new ConnectionError("refused", { accepted: false })) // { accepted: false, resendable: true, boxFault: true, boxDown: true, ... }
 */
export function faultOf(err: unknown): Fault {
  const code = (err as { code?: unknown } | null)?.code;
  return {
    code: typeof code === "string" ? code : "",
    accepted: flag(err, "accepted", true),
    resendable: flag(err, "resendable", false),
    boxFault: flag(err, "boxFault", false),
    boxDown: flag(err, "boxDown", false),
    boxBusy: flag(err, "boxBusy", false),
  };
}

/**
 * The one answer to "may this be sent again?": nothing was accepted and the fault is not the
 * request's.
 * @example if (safeToResend(err)) return next.run(job);
 */
export function safeToResend(err: unknown): boolean {
  const f = faultOf(err);
  return !f.accepted && f.resendable;
}
