// The UI's own queue holds 2 running jobs and 4 waiting, then refuses. With its default cap the
// gateway refuses first (503 busy + Retry-After, at once, no pile-up upstream); with the cap
// raised above the UI's queue, the UI's refusal comes through as 503 backend-queue-full with
// Retry-After. Either way nothing hangs and every accepted job ends.
import { readRecord } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, cloneVoice, expectProblem, jsonPost, type Answer } from "./helpers/http.ts";
import { jobsWith, unfinishedJobs } from "./helpers/record.ts";
import { startStack, type Stack } from "./helpers/stack.ts";

const SLOW = { variant: "official", model: "cosyvoice3", firstChunkDelayMs: 1_500 } as const;

async function burst(stack: Stack, voice: string, n: number): Promise<Answer[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => call(stack.gw.url + "/synthesize", jsonPost({ text: `Request ${i}.`, voice }))));
}

describe("the gateway's cap (2 running + 2 waiting) in front of the UI's queue", () => {
  let stack: Stack;
  let voice: string;
  beforeAll(async () => {
    stack = await startStack(SLOW, { concurrency: 2, queueSize: 2 });
    voice = await cloneVoice(stack.gw.url);
  });
  afterAll(() => stack?.close());

  it("10 at once: 4 served, 6 refused with 503 busy and Retry-After, none reach the UI", async () => {
    const answers = await burst(stack, voice, 10);
    const busy = answers.filter((a) => a.status === 503);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(4);
    expect(busy).toHaveLength(6);
    for (const a of busy) {
      expectProblem(a, 503, "busy");
      expect(Number(a.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    const rec = readRecord(stack.standin.record);
    expect(jobsWith(rec, "call")).toHaveLength(4);
    expect(unfinishedJobs(rec)).toEqual([]);
  });
});

describe("the cap raised above the UI's queue", () => {
  let stack: Stack;
  let voice: string;
  beforeAll(async () => {
    stack = await startStack(SLOW, { concurrency: 16, queueSize: 0 });
    voice = await cloneVoice(stack.gw.url);
  });
  afterAll(() => stack?.close());

  it("10 at once: the UI takes what its queue holds, the rest are 503 backend-queue-full with Retry-After", async () => {
    const answers = await burst(stack, voice, 10);
    const full = answers.filter((a) => a.status === 503);
    const served = answers.filter((a) => a.status === 201).length;
    // The UI holds 2 running + 4 waiting; how many of the 10 fit depends on when its worker
    // picks jobs off the queue, so only the bounds are fixed.
    expect(served).toBeGreaterThanOrEqual(2);
    expect(served).toBeLessThanOrEqual(6);
    expect(full.length).toBe(10 - served);
    for (const a of full) {
      expectProblem(a, 503, "backend-queue-full");
      expect(Number(a.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    const rec = readRecord(stack.standin.record);
    expect(jobsWith(rec, "done")).toHaveLength(served);
    expect(unfinishedJobs(rec)).toEqual([]);
  });
});
