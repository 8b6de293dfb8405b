import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { joinQueue, startStandin, waitForRecord, type StandinHandle } from "@cosyvoice3/testkit";

// queue(max_size=4, default_concurrency_limit=2): two jobs run, four wait, the 7th is refused.
describe("queue limits", () => {
  let h: StandinHandle;
  beforeAll(async () => {
    // long first-chunk delays keep the two running jobs busy while the others queue up
    h = await startStandin({ variant: "official", model: "cosyvoice1", firstChunkDelayMs: 20_000 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("refuses the 7th concurrent job with HTTP 503 Queue is full", async () => {
    const data = ["Busy.", "预训练音色", "中文女", "", null, null, "", 0, false, 1];
    const accepted: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await joinQueue(h.url, { fn_index: 1, data, session_hash: `busy-${i}` });
      if (!r.ok) throw new Error(`job ${i} refused: ${JSON.stringify(r)}`);
      accepted.push(r.eventId);
    }
    // wait until both run (their calls are recorded), so the next four really wait in the queue
    await waitForRecord(h.record, (rec) => rec.filter((e) => e.event === "call").length === 2);
    for (let i = 2; i < 6; i++) {
      const r = await joinQueue(h.url, { fn_index: 1, data, session_hash: `busy-${i}` });
      if (!r.ok) throw new Error(`job ${i} refused: ${JSON.stringify(r)}`);
      accepted.push(r.eventId);
    }
    expect(new Set(accepted).size).toBe(6);
    const seventh = await joinQueue(h.url, { fn_index: 1, data, session_hash: "busy-6" });
    expect(seventh.ok).toBe(false);
    if (seventh.ok) return;
    expect(seventh.status).toBe(503);
    expect(String((seventh.body as { detail?: string }).detail)).toMatch(/^Queue is full/);
  });
});
