/**
 * `isSafeToResend(err)` is the one answer to "may this job be sent again?": only when the UI
 * certainly accepted nothing and the fault lies with the UI. Each error class states its part
 * (`accepted` once, in its constructor; `resendable` as a class fact), nothing switches on codes.
 */
import { describe, expect, it } from "vitest";
import {
  AbortError,
  ConnectionError,
  CosyVoiceError,
  QueueFullError,
  TimeoutError,
  UnsupportedBackendError,
  UnsupportedModeError,
  UpstreamError,
  UpstreamWarningError,
  ValidationError,
  isSafeToResend,
} from "../src/index.ts";

describe("isSafeToResend", () => {
  it.each([
    ["a full queue (the join was refused)", new QueueFullError(1000), true],
    ["a connection refused before the join", new ConnectionError("refused", { accepted: false }), true],
    ["a UI that is not a CosyVoice UI (found at connect)", new UnsupportedBackendError("no", {}), true],
    ["a connection lost mid-job", new ConnectionError("gone"), false],
    ["invalid input (nothing sent, but it would fail again)", new ValidationError([{ path: ["text"], code: "too_small", message: "x" }]), false],
    ["a mode this UI lacks (another UI may have it; nothing was queued)", new UnsupportedModeError("instruct", "official", "no"), true],
    ["a warning of the UI (it ran the job)", new UpstreamWarningError("prompt too short"), false],
    ["a hidden error of the UI", new UpstreamError("failed"), false],
    ["a deadline", new TimeoutError(1000), false],
    ["the caller's abort, even before the join", new AbortError({ accepted: false }), false],
    ["not an SDK error", new Error("plain"), false],
    ["not an error at all", { accepted: false, code: "queue_full" }, false],
  ])("%s: %s", (_what, err, safe) => {
    expect(isSafeToResend(err)).toBe(safe);
  });

  it("accepted is set in the constructor and cannot be changed afterwards", () => {
    const err = new ConnectionError("refused", { accepted: false });
    expect(err.accepted).toBe(false);
    expect(Object.getOwnPropertyDescriptor(err, "accepted")).toBeDefined();
    // readonly in the types; the value callers see is the constructor's.
    expect(new CosyVoiceError("x").accepted).toBe(true);
    expect(new QueueFullError(1).accepted).toBe(false);
    expect(new ValidationError([]).accepted).toBe(false);
  });
});
