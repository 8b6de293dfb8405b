/**
 * The breaker's rules, on real cockatiel policies with short waits: consecutive box faults open
 * it; input faults (warning, validation) and aborts are not counted; an open breaker admits
 * nothing until its wait is over, then exactly one probe; the probe's success closes it and its
 * failure opens it again.
 */
import { AbortError, ConnectionError, QueueFullError, UpstreamError, UpstreamWarningError, ValidationError } from "cosyvoice3-sdk";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { BackendBreaker, isBoxFault } from "../src/backends/breaker/index.ts";

const logger = pino({ level: "silent" });
const tick = () => new Promise((r) => setTimeout(r, 0));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function fail(b: BackendBreaker, err: unknown) {
  b.admit().done(err);
  await tick();
}

describe("isBoxFault", () => {
  it("counts the box's failures, not the input's or the caller's", () => {
    expect(isBoxFault(new ConnectionError("refused"))).toBe(true);
    expect(isBoxFault(new UpstreamError("hidden error"))).toBe(true);
    expect(isBoxFault(new UpstreamWarningError("text is empty"))).toBe(false);
    expect(isBoxFault(new ValidationError([{ path: ["text"], message: "empty", code: "too_small" }]))).toBe(false);
    expect(isBoxFault(new AbortError())).toBe(false);
    expect(isBoxFault(new QueueFullError(1000))).toBe(false);
    expect(isBoxFault(new Error("anything else"))).toBe(false);
  });
});

describe("BackendBreaker", () => {
  it("opens after `threshold` consecutive box faults, and a success in between resets the count", async () => {
    const b = new BackendBreaker({ name: "b", threshold: 3, halfOpenAfterMs: 60_000, logger });
    await fail(b, new UpstreamError("x"));
    await fail(b, new UpstreamError("x"));
    b.admit().done();
    await tick();
    await fail(b, new UpstreamError("x"));
    await fail(b, new UpstreamError("x"));
    expect(b.state).toBe("closed");
    await fail(b, new ConnectionError("x"));
    expect(b.state).toBe("open");
    expect(b.admits()).toBe(false);
    expect(b.retryAfterMs()).toBeGreaterThan(50_000);
    expect(() => b.admit()).toThrow(/does not admit/);
  });

  it("input faults never open it", async () => {
    const b = new BackendBreaker({ name: "b", threshold: 2, logger });
    for (let i = 0; i < 5; i++) await fail(b, new UpstreamWarningError("bad text"));
    for (let i = 0; i < 5; i++) await fail(b, new AbortError());
    expect(b.state).toBe("closed");
  });

  it("after its wait, one probe is admitted; while it runs nothing else is; its success closes the breaker", async () => {
    const b = new BackendBreaker({ name: "b", threshold: 1, halfOpenAfterMs: 150, logger });
    await fail(b, new UpstreamError("x"));
    expect(b.admits()).toBe(false);
    await sleep(200);
    expect(b.admits()).toBe(true);
    const probe = b.admit();
    expect(b.state).toBe("half-open");
    expect(b.admits()).toBe(false);
    probe.done();
    await tick();
    expect(b.state).toBe("closed");
    expect(b.admits()).toBe(true);
  });

  it("a failed probe opens it again for another wait", async () => {
    const b = new BackendBreaker({ name: "b", threshold: 1, halfOpenAfterMs: 150, logger });
    await fail(b, new UpstreamError("x"));
    await sleep(200);
    await fail(b, new UpstreamError("still failing"));
    expect(b.state).toBe("open");
    expect(b.admits()).toBe(false);
    expect(b.retryAfterMs()).toBeGreaterThan(100);
  });
});
