// A slow GPU box: the gateway's deadline passes before the first audio. The client gets a 504
// problem (for a plain and a streamed synthesis alike), and the job is really cancelled on the
// backend: its record ends the job "cancelled" and shows no chunk after that.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, cloneVoice, expectProblem, jsonPost } from "./helpers/http.ts";
import { callCount, chunksAfterCancel, jobEnd, nextCall, unfinishedJobs } from "./helpers/record.ts";
import { startStack, type Stack } from "./helpers/stack.ts";
import { readRecord } from "@cosyvoice3/testkit";

let stack: Stack;
let voice: string;

beforeAll(async () => {
  stack = await startStack({ variant: "official", model: "cosyvoice3", firstChunkDelayMs: 4_000, chunkDelayMs: 1_000 }, { upstreamTimeoutMs: 1_200 });
  voice = await cloneVoice(stack.gw.url);
});

afterAll(async () => {
  await stack?.close();
});

describe("upstream slower than the deadline", () => {
  it.each([
    ["a plain synthesis", false],
    ["a streamed synthesis", true],
  ])("%s answers 504 and the backend job is cancelled with no chunk after", async (_name, stream) => {
    const before = callCount(stack.standin.record);
    const a = await call(stack.gw.url + "/synthesize", jsonPost({ text: "One. Two. Three.", voice, stream }));
    expectProblem(a, 504, "deadline-exceeded");
    const job = await nextCall(stack.standin.record, before);
    const { end, rec } = await jobEnd(stack.standin.record, job);
    expect(end).toBe("cancelled");
    expect(chunksAfterCancel(rec, job)).toEqual([]);
  });

  it("leaves no job running on the backend and serves again at once", async () => {
    // Give a late chunk the time it would need to show up (the stand-in's first chunk is at 4 s).
    await new Promise((r) => setTimeout(r, 4_500));
    const rec = readRecord(stack.standin.record);
    expect(unfinishedJobs(rec)).toEqual([]);
    for (const job of rec.filter((e) => e.event === "cancelled").map((e) => String(e["job"]))) expect(chunksAfterCancel(rec, job)).toEqual([]);
    expect((await call(stack.gw.url + "/healthz")).status).toBe(200);
  });
});
