// Slow "GPU": the gateway's deadline and a client that walks away must both cancel the Gradio
// job for real; the stand-in's record shows the job ended "cancelled" and made no more chunks.
import { readRecord, synthWav, waitForRecord, type RecordEntry } from "@cosyvoice3/testkit";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SDK_READY, SDK_SKIP_REASON, startFullStack, type FullStack } from "./helpers/full-stack.ts";
import { jsonPost, voiceForm } from "./helpers/harness.ts";

const jobsOf = (rec: RecordEntry[], event: string) => rec.filter((e) => e.event === event).map((e) => e["job"]);

describe.skipIf(!SDK_READY)(`deadline and disconnect against the stand-in${SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`}`, () => {
  let stack: FullStack;
  let voiceId: string;
  beforeAll(async () => {
    stack = await startFullStack({ variant: "official", model: "cosyvoice3", firstChunkDelayMs: 4000, chunkDelayMs: 1500 }, { upstreamTimeoutMs: 1500 });
    voiceId = (
      await stack.gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav({ seconds: 3 }), name: "V", promptText: "Hello there." }) })
    ).json.id;
  });
  afterAll(() => stack?.close());

  it("deadline exceeded: 504, and the Gradio job is cancelled", async () => {
    const res = await stack.gw.api("/synthesize", jsonPost({ text: "One. Two. Three.", voice: voiceId }));
    expect(res.status).toBe(504);
    expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:deadline-exceeded");
    const rec = await waitForRecord(stack.standin.record, (r) => jobsOf(r, "cancelled").length >= 1);
    const job = jobsOf(rec, "call").at(-1);
    expect(jobsOf(rec, "cancelled")).toContain(job);
    expect(rec.filter((e) => e["job"] === job && e.event === "chunk")).toEqual([]);
    expect(stack.gw.slots.load).toEqual({ running: 0, waiting: 0 });
  });

  it("client disconnect mid-stream: the Gradio job is cancelled and makes no further chunk", async () => {
    const before = readRecord(stack.standin.record).filter((e) => e.event === "call").length;
    // A longer deadline for this request's gateway would need another stack; the stream's first
    // chunk arrives at ~4 s, past the 1.5 s deadline, so disconnect before it instead.
    const body = JSON.stringify({ text: "One. Two. Three. Four.", voice: voiceId, stream: true });
    const req = request(stack.gw.url + "/synthesize", { method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } });
    req.on("error", () => undefined);
    req.end(body);
    const rec0 = await waitForRecord(stack.standin.record, (r) => r.filter((e) => e.event === "call").length > before);
    const job = jobsOf(rec0, "call").at(-1);
    req.destroy();
    const rec = await waitForRecord(stack.standin.record, (r) => jobsOf(r, "cancelled").includes(job));
    const after = rec.findIndex((e) => e["job"] === job && e.event === "cancelled");
    expect(rec.slice(after + 1).filter((e) => e["job"] === job && e.event === "chunk")).toEqual([]);
  });
});
