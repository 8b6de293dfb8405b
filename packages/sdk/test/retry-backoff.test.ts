/** Jittered exponential backoff with a cap, and an abortable sleep that leaves nothing behind. */
import { describe, expect, it } from "vitest";
import { backoffDelay, sleep } from "../src/internal/retry.ts";
import { createScope, raceAbort } from "../src/internal/scope.ts";
import { AbortError, TimeoutError } from "../src/index.ts";

const policy = { baseMs: 500, capMs: 8000 };

describe("backoffDelay", () => {
  it("doubles per attempt between half and all of the exponential value", () => {
    for (let n = 0; n < 4; n++) {
      const exp = 500 * 2 ** n;
      expect(backoffDelay(n, policy, () => 0)).toBe(exp / 2);
      expect(backoffDelay(n, policy, () => 1)).toBe(exp);
    }
  });
  it("never exceeds the cap", () => {
    for (let n = 0; n < 40; n++) expect(backoffDelay(n, policy, Math.random)).toBeLessThanOrEqual(8000);
    expect(backoffDelay(30, policy, () => 0)).toBe(4000);
  });
  it("is jittered: callers refused together do not come back together", () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3, policy)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe("sleep and scopes", () => {
  it("sleep rejects with the signal's reason when aborted", async () => {
    const ctl = new AbortController();
    const p = sleep(60_000, ctl.signal);
    ctl.abort(new AbortError());
    await expect(p).rejects.toBeInstanceOf(AbortError);
  });
  it("a scope turns the deadline into TimeoutError and the caller's abort into AbortError", async () => {
    const t = createScope(undefined, 20);
    await expect(sleep(60_000, t.signal)).rejects.toBeInstanceOf(TimeoutError);
    t.dispose();
    const ctl = new AbortController();
    const a = createScope(ctl.signal, 60_000);
    const p = raceAbort(new Promise(() => undefined), a.signal);
    ctl.abort("user");
    await expect(p).rejects.toBeInstanceOf(AbortError);
    expect((a.reason as AbortError).cause).toBe("user");
    a.dispose();
  });
  it("an already aborted signal aborts the scope at once", () => {
    const s = createScope(AbortSignal.abort(), 60_000);
    expect(s.reason).toBeInstanceOf(AbortError);
    s.dispose();
  });
});
