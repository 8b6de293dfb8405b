// The pool's choices as pure functions: which box a job tries (load, turns, cool-off, down,
// capability) and what follows a failure (fail over only when nothing of the job ran).
import { ConnectionError, QueueFullError, TimeoutError, UnsupportedBackendError, UpstreamError, UpstreamWarningError } from "cosyvoice3-sdk";
import { describe, expect, it } from "vitest";
import { canRun, decideAfterFailure, needsOf, rank, verdictOn, type RankedBox } from "../src/backends/pool/index.ts";
import { downReason } from "../src/backends/pool/health.ts";
import { safeToResend } from "../src/backends/pool/failover.ts";
import { faultOf } from "../src/backends/faults.ts";
import { downSlug, PROBLEM_KINDS, toHttpProblem } from "../src/doors/problems.ts";

const box = (over: Partial<RankedBox> = {}): RankedBox => ({ state: "up", coolUntil: 0, outstanding: 0, ...over });
const NOW = 1_000_000;

describe("rank", () => {
  it("fewest outstanding jobs per slot first", () => {
    expect(rank([box({ outstanding: 1 }), box({ outstanding: 0.5 }), box({ outstanding: 0 })], { now: NOW, start: 0, allowDown: true })).toEqual([2, 1, 0]);
  });

  it("ties are taken in turn from the cursor", () => {
    const even = [box(), box(), box()];
    expect(rank(even, { now: NOW, start: 0, allowDown: true })).toEqual([0, 1, 2]);
    expect(rank(even, { now: NOW, start: 1, allowDown: true })).toEqual([1, 2, 0]);
    expect(rank(even, { now: NOW, start: 5, allowDown: true })).toEqual([2, 0, 1]);
  });

  it("a box cooling off after a full queue goes after idle ones, even when less loaded", () => {
    expect(rank([box({ coolUntil: NOW + 1, outstanding: 0 }), box({ outstanding: 2 })], { now: NOW, start: 0, allowDown: true })).toEqual([1, 0]);
    expect(rank([box({ coolUntil: NOW, outstanding: 0 }), box({ outstanding: 2 })], { now: NOW, start: 0, allowDown: true })).toEqual([0, 1]);
  });

  it("down boxes come last, and only when allowed", () => {
    const boxes = [box({ state: "down" }), box({ state: "unknown", outstanding: 1 })];
    expect(rank(boxes, { now: NOW, start: 0, allowDown: true })).toEqual([1, 0]);
    expect(rank(boxes, { now: NOW, start: 0, allowDown: false })).toEqual([1]);
  });

  it("skips boxes already tried", () => {
    expect(rank([box(), box(), box()], { now: NOW, start: 0, allowDown: true, exclude: new Set([0, 2]) })).toEqual([1]);
  });

  it("only boxes that can run the job's mode and speaker (unknown boxes may)", () => {
    const official = box({ can: { modes: ["clone", "crossLingual"], speakers: [] } });
    const cv3en = box({ outstanding: 3, can: { modes: ["clone", "crossLingual", "instruct"], speakers: [] } });
    const cv1 = box({ can: { modes: ["pretrained", "clone", "crossLingual", "instruct"], speakers: ["中文女"] } });
    const unseen = box({ outstanding: 5 });
    expect(rank([official, cv3en, unseen], { now: NOW, start: 0, allowDown: true, needs: { mode: "instruct" } })).toEqual([1, 2]);
    expect(rank([official, cv3en], { now: NOW, start: 0, allowDown: true, needs: { mode: "clone" } })).toEqual([0, 1]);
    expect(rank([official, cv1], { now: NOW, start: 0, allowDown: true, needs: { mode: "pretrained", speaker: "中文女" } })).toEqual([1]);
    expect(rank([cv1], { now: NOW, start: 0, allowDown: true, needs: { mode: "pretrained", speaker: "英文男" } })).toEqual([]);
    expect(canRun(unseen, { mode: "instruct" })).toBe(true);
  });

  it("reads a job's needs from its request", () => {
    expect(needsOf({ mode: "pretrained", text: "Hi.", voice: "中文女" })).toEqual({ mode: "pretrained", speaker: "中文女" });
    expect(needsOf({ mode: "clone", text: "Hi.", promptText: "Hello.", promptAudio: new Uint8Array(1) })).toEqual({ mode: "clone" });
  });
});

describe("decideAfterFailure", () => {
  const facts = { fault: faultOf(new ConnectionError("refused", { accepted: false })), sawProgress: false, callerGaveUp: false };

  it("fails over when the error says nothing was accepted, no progress was seen and the caller waits", () => {
    expect(decideAfterFailure(facts)).toEqual({ failOver: true, markDown: true, coolDownMs: 0, afterAcceptance: false });
  });

  it("runs a job once more elsewhere when the box accepted it and then failed it itself, before any audio went out", () => {
    const accepted = { fault: faultOf(new UpstreamError("job failed on the box")), sawProgress: true, callerGaveUp: false, yielded: false };
    expect(decideAfterFailure(accepted)).toMatchObject({ failOver: true, afterAcceptance: true });
    // Once only, never after audio went to the caller, never for the input's fault, never once the caller left.
    expect(decideAfterFailure({ ...accepted, resentAfterAcceptance: true }).failOver).toBe(false);
    expect(decideAfterFailure({ ...accepted, yielded: true }).failOver).toBe(false);
    expect(decideAfterFailure({ ...accepted, fault: faultOf(new UpstreamWarningError("empty")) }).failOver).toBe(false);
    expect(decideAfterFailure({ ...accepted, callerGaveUp: true }).failOver).toBe(false);
  });

  it.each([
    ["the box may have run it and its audio already went to the caller", { fault: faultOf(new ConnectionError("reset")), yielded: true }],
    ["progress was seen and the input was at fault", { sawProgress: true, fault: faultOf(new UpstreamWarningError("empty")) }],
    ["the caller gave up", { callerGaveUp: true }],
  ])("never fails over when %s", (_why, over) => {
    expect(decideAfterFailure({ ...facts, ...over }).failOver).toBe(false);
  });

  it("a full UI queue cools the box off without marking it down; a gone box is marked down either way", () => {
    expect(verdictOn(faultOf(new QueueFullError(1000)))).toEqual({ markDown: false, coolDownMs: 5_000 });
    expect(verdictOn(faultOf(new UnsupportedBackendError("x", {}))).markDown).toBe(true);
    expect(verdictOn(faultOf(new UpstreamWarningError("empty")))).toEqual({ markDown: false, coolDownMs: 0 });
    expect(decideAfterFailure({ ...facts, fault: faultOf(new ConnectionError("reset")) }).markDown).toBe(true);
  });

  it("asks the SDK's error whether it was accepted", () => {
    // `accepted` is set once, in the constructor.
    const refused = new ConnectionError("refused", { accepted: false });
    expect(safeToResend(refused)).toBe(true);
    expect(safeToResend(new UpstreamError("boom"))).toBe(false);
    expect(safeToResend(new Error("what"))).toBe(false);
  });
});

describe("a down box's reason", () => {
  it("is named at /readyz by the problem slug the same failure gets at the HTTP edge", () => {
    for (const err of [new ConnectionError("x"), new UpstreamError("x"), new UnsupportedBackendError("x", {}), new TimeoutError(1000)]) {
      expect(downSlug(downReason(err))).toBe(PROBLEM_KINDS[toHttpProblem(err).code].slug);
    }
    expect(downSlug(downReason(new Error("anything")))).toBe("backend-error");
  });
});
