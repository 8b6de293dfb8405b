// Overload: the gateway's own cap answers 503 + Retry-After at once rather than piling onto the
// UI's queue; with the cap raised past the UI's queue, the UI's own refusal is a 503 too.
import { synthWav, waitForRecord } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SDK_READY, SDK_SKIP_REASON, startFullStack, type FullStack } from "./helpers/full-stack.ts";
import { jsonPost, voiceForm } from "./helpers/harness.ts";

describe.skipIf(!SDK_READY)(`queue full against the stand-in${SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`}`, () => {
  let capped: FullStack;
  beforeAll(async () => {
    capped = await startFullStack({ variant: "official", model: "cosyvoice1", chunkDelayMs: 800 }, { concurrency: 2, queueSize: 2 });
  });
  afterAll(() => capped?.close());

  it("8 at once: 4 run or wait and complete, 4 get 503 + Retry-After, nothing hangs", async () => {
    const speaker = (await capped.gw.api("/voices")).json.voices[0].id;
    const results = await Promise.all(
      Array.from({ length: 8 }, () => capped.gw.api("/synthesize", jsonPost({ text: "One. Two.", voice: speaker }))),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 201, 201, 503, 503, 503, 503]);
    for (const r of results.filter((x) => x.status === 503)) {
      expect(r.json.type).toBe("urn:cosyvoice3-gateway:problem:busy");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    expect(capped.gw.slots.load).toEqual({ running: 0, waiting: 0 });
  });
});

describe.skipIf(!SDK_READY)(`the UI's own queue full${SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`}`, () => {
  let open: FullStack;
  let voiceId: string;
  beforeAll(async () => {
    // Each job takes ~4 s, so all 8 joins land while the first two still run.
    open = await startFullStack({ variant: "official", model: "cosyvoice3", firstChunkDelayMs: 4000 }, { concurrency: 10, queueSize: 0 });
    voiceId = (await open.gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav(), name: "Q", promptText: "Hello." }) })).json.id;
    // One call first, so the SDK has the prompt uploaded and the burst is only queue joins.
    expect((await open.gw.api("/synthesize", jsonPost({ text: "Warm up.", voice: voiceId }))).status).toBe(201);
  });
  afterAll(() => open?.close());

  it("past the UI's 2 running + 4 waiting, the refusal is 503 backend-queue-full with Retry-After", async () => {
    const call = () => open.gw.api("/synthesize", jsonPost({ text: "One.", voice: voiceId }));
    // Two first, and the rest once the UI runs them: joins sent back to back count as waiting
    // until the UI's workers pick them up, so a single burst may be refused before the 7th.
    const first = Array.from({ length: 2 }, call);
    await waitForRecord(open.standin.record, (r) => r.filter((e) => e.event === "call").length >= 3);
    const results = await Promise.all([...first, ...Array.from({ length: 6 }, call)]);
    const refused = results.filter((r) => r.status === 503);
    // The UI takes about 6 (2 running + 4 waiting); how many exactly depends on how far the first
    // jobs got while the later ones were still uploading their prompt. Every call settles.
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 503), String(statuses)).toBe(true);
    expect(results.filter((r) => r.status === 201).length).toBeGreaterThanOrEqual(5);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) {
      expect(r.json.type).toBe("urn:cosyvoice3-gateway:problem:backend-queue-full");
      expect(r.headers.get("retry-after")).toMatch(/^\d+$/);
    }
  });
});
