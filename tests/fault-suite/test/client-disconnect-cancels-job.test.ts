// A client that hangs up: mid-synthesis (waiting for a plain 201) and mid-stream (after audio
// started to arrive). Either way the backend job is cancelled: the record ends it "cancelled"
// and shows no chunk after that, and the gateway's slot is free again.
import { readRecord, waitForRecord } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, cloneVoice, gatewayHoldsNoSlot, jsonPost } from "./helpers/http.ts";
import { callCount, chunksAfterCancel, jobEnd, nextCall, unfinishedJobs } from "./helpers/record.ts";
import { startStack, type Stack } from "./helpers/stack.ts";
import { postJson } from "./helpers/stream.ts";

const TEXT = "First sentence. Second sentence. Third sentence. Fourth sentence. Fifth sentence.";
let stack: Stack;
let voice: string;

beforeAll(async () => {
  // One slot, so a job that is not really cancelled would block the next request.
  stack = await startStack({ variant: "official", model: "cosyvoice3", chunkDelayMs: 600 }, { concurrency: 1, queueSize: 0 });
  voice = await cloneVoice(stack.gw.url);
});

afterAll(async () => {
  await stack?.close();
});

describe("client disconnect", () => {
  it("mid-synthesis (after the first chunk was made): the job is cancelled, no chunk after", async () => {
    const before = callCount(stack.standin.record);
    const r = postJson(stack.gw.url, "/synthesize", { text: TEXT, voice });
    const job = await nextCall(stack.standin.record, before);
    await waitForRecord(stack.standin.record, (rec) => rec.some((e) => e["job"] === job && e.event === "chunk"));
    r.hangUp();
    const { end, rec } = await jobEnd(stack.standin.record, job);
    expect(end).toBe("cancelled");
    expect(chunksAfterCancel(rec, job)).toEqual([]);
  });

  it("mid-stream (after audio arrived): the job is cancelled, no chunk after", async () => {
    const before = callCount(stack.standin.record);
    const r = postJson(stack.gw.url, "/synthesize", { text: TEXT, voice, stream: true });
    const job = await nextCall(stack.standin.record, before);
    expect((await r.head).status).toBe(200);
    await r.bytes(1);
    r.hangUp();
    const { end, rec } = await jobEnd(stack.standin.record, job);
    expect(end).toBe("cancelled");
    expect(chunksAfterCancel(rec, job)).toEqual([]);
  });

  it("with the one slot taken, another request is refused at once and never reaches the backend", async () => {
    const before = callCount(stack.standin.record);
    const first = postJson(stack.gw.url, "/synthesize", { text: TEXT, voice });
    await nextCall(stack.standin.record, before);
    // The single slot is busy and the wait list is 0: the gateway refuses at once.
    const second = await call(stack.gw.url + "/synthesize", jsonPost({ text: "Hi.", voice }));
    expect(second.status).toBe(503);
    first.hangUp();
    await waitForRecord(stack.standin.record, (rec) => unfinishedJobs(rec).length === 0);
    expect(callCount(stack.standin.record)).toBe(before + 1);
  });

  it("afterwards the single slot is free: a full synthesis succeeds", async () => {
    await waitForRecord(stack.standin.record, (rec) => unfinishedJobs(rec).length === 0);
    // The backend is done with the hung-up jobs; the gateway frees the slot once its cancel call
    // returns (the slot must come free, not stay held by a job nobody waits for).
    await gatewayHoldsNoSlot(stack.gw.url);
    const a = await call(stack.gw.url + "/synthesize", jsonPost({ text: "All good.", voice }));
    expect(a.status, a.text).toBe(201);
    const rec = readRecord(stack.standin.record);
    expect(unfinishedJobs(rec)).toEqual([]);
    for (const job of rec.filter((e) => e.event === "cancelled").map((e) => String(e["job"]))) expect(chunksAfterCancel(rec, job)).toEqual([]);
  });
});
