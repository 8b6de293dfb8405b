// A job a backend did not accept (connection refused, its UI queue full) moves to another
// backend; the client sees one success. A job a backend accepted is never sent again.
import { freePort, startStandin, synthWav, waitForRecord, type StandinHandle } from "@cosyvoice3/testkit";
import { CosyVoice } from "cosyvoice3-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAdts } from "./helpers/clip.ts";
import { SDK_READY, SDK_SKIP_REASON } from "./helpers/full-stack.ts";
import { jsonPost, voiceForm } from "./helpers/harness.ts";
import { failovers, resends, startPoolGateway, synthCalls, type PoolGateway } from "./helpers/pool-stack.ts";

const skip = SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`;

async function cloneVoice(stack: PoolGateway): Promise<string> {
  const res = await stack.gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav(), name: "F", promptText: "Hello." }) });
  expect(res.status).toBe(201);
  return res.json.id;
}

describe.skipIf(!SDK_READY)(`failover before acceptance${skip}`, () => {
  let good: StandinHandle;
  beforeAll(async () => {
    good = await startStandin({ variant: "official", model: "cosyvoice3" });
  });
  afterAll(() => good?.stop());

  describe("backend-1 refuses connections (nothing listens; no health check has run)", () => {
    let stack: PoolGateway;
    let voice: string;
    beforeAll(async () => {
      const dead = `http://127.0.0.1:${await freePort()}`;
      stack = await startPoolGateway([dead, good.url], { healthCheckIntervalMs: 0 });
      voice = await cloneVoice(stack);
    });
    afterAll(() => stack?.close());

    it("the first job (a stream) is tried on backend-1, refused, and served by backend-2", async () => {
      expect(stack.pool.status().map((b) => b.state)).toEqual(["unknown", "unknown"]);
      const before = synthCalls(good.record);
      const res = await stack.gw.api("/synthesize", jsonPost({ text: "Hello there.", voice, stream: true }));
      expect(res.status).toBe(200);
      expect(isAdts(res.bytes)).toBe(true);
      expect(synthCalls(good.record) - before).toBe(1);
      expect(failovers(stack.logLines)).toEqual([{ from: "backend-1", to: "backend-2", code: "connection" }]);
      expect(stack.pool.status()[0]).toMatchObject({ state: "down", error: "connection" });
    });

    it("later jobs skip the backend marked down: no more failovers", async () => {
      const before = synthCalls(good.record);
      for (let i = 0; i < 3; i++) expect((await stack.gw.api("/synthesize", jsonPost({ text: "Again.", voice }))).status).toBe(201);
      expect(synthCalls(good.record) - before).toBe(3);
      expect(failovers(stack.logLines)).toHaveLength(1);
    });
  });

  describe("backend-1's UI queue is full (2 running + 4 waiting)", () => {
    let busy: StandinHandle;
    let stack: PoolGateway;
    let voice: string;
    let client: CosyVoice;
    const hold = new AbortController();
    const held: Promise<unknown>[] = [];

    beforeAll(async () => {
      busy = await startStandin({ variant: "official", model: "cosyvoice3", firstChunkDelayMs: 60_000 });
      client = await CosyVoice.connect(busy.url, { model: "cosyvoice3", maxRetries: 0, timeoutMs: 120_000 });
      // Jobs one by one until the UI refuses one: then it runs 2 and holds 4 (its max_size).
      let accepted = 0;
      for (let i = 0; i < 10; i++) {
        const outcome = await new Promise<string>((resolve) => {
          held.push(
            client
              .synthesize(
                { mode: "clone", text: `Hold ${i}.`, promptText: "Hello.", promptAudio: { data: synthWav(), name: "p.wav", mimeType: "audio/wav" } },
                { signal: hold.signal, onProgress: () => resolve("accepted") },
              )
              .then(
                () => resolve("done"),
                (err: { code?: string }) => resolve(String(err.code)),
              ),
          );
        });
        if (outcome !== "accepted") {
          expect(outcome).toBe("queue_full");
          break;
        }
        accepted++;
        // Once two run (their calls are recorded) the rest really wait: joined while the first two
        // are still in the queue, the UI would count them as waiting and refuse early.
        if (accepted === 2) await waitForRecord(busy.record, (r) => r.filter((e) => e.event === "call").length >= 2);
      }
      expect(accepted).toBe(6);
      stack = await startPoolGateway([busy.url, good.url], { healthCheckIntervalMs: 0, concurrency: 10, queueSize: 0 });
      voice = await cloneVoice(stack);
    });
    afterAll(async () => {
      hold.abort();
      await Promise.all(held);
      await client?.close();
      await stack?.close();
      await busy?.stop();
    });

    it("the job refused by backend-1's queue runs on backend-2", async () => {
      const before = { busy: synthCalls(busy.record), good: synthCalls(good.record) };
      const res = await stack.gw.api("/synthesize", jsonPost({ text: "Through the other box.", voice }));
      expect(res.status).toBe(201);
      expect(failovers(stack.logLines)).toEqual([{ from: "backend-1", to: "backend-2", code: "queue_full" }]);
      expect(synthCalls(good.record) - before.good).toBe(1);
      expect(synthCalls(busy.record)).toBe(before.busy);
    });

    it("a full queue does not mark backend-1 down (it answered); the next job succeeds too", async () => {
      expect(stack.pool.status()[0]?.state).not.toBe("down");
      const before = synthCalls(good.record);
      expect((await stack.gw.api("/synthesize", jsonPost({ text: "Once more.", voice }))).status).toBe(201);
      expect(synthCalls(good.record) - before).toBe(1);
      expect(failovers(stack.logLines).every((f) => f.code === "queue_full" && f.to === "backend-2")).toBe(true);
    });
  });
  describe("backend-1 dies mid-job (it had accepted the job, no audio had reached the caller)", () => {
    let crashing: StandinHandle;
    let stack: PoolGateway;
    let voice: string;
    beforeAll(async () => {
      crashing = await startStandin({ variant: "official", model: "cosyvoice3", crashAfterChunks: 1, chunkDelayMs: 300 });
      stack = await startPoolGateway([crashing.url, good.url], { healthCheckIntervalMs: 0 });
      voice = await cloneVoice(stack);
    });
    afterAll(async () => {
      await stack?.close();
      await crashing?.stop();
    });

    it("a whole clip (no audio reached the caller yet) runs once more on backend-2: 201", async () => {
      const before = synthCalls(good.record);
      const res = await stack.gw.api("/synthesize", jsonPost({ text: "First part. Second part. Third part.", voice }));
      expect(res.status).toBe(201);
      expect(synthCalls(crashing.record)).toBe(1);
      expect(synthCalls(good.record)).toBe(before + 1);
      expect(failovers(stack.logLines)).toEqual([]);
      expect(resends(stack.logLines)).toEqual([{ from: "backend-1", to: "backend-2", code: "connection" }]);
      expect(stack.pool.status()[0]?.state).toBe("down");
    });
  });
});
