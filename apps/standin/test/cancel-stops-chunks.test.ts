import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cancelJob,
  joinQueue,
  openQueueStream,
  readRecord,
  startStandin,
  waitForRecord,
  type StandinHandle,
} from "@cosyvoice3/testkit";

// Gradio's /cancel cancels the job's task; the stand-in must then stop making audio at once
// (the model's "GPU" sleep is interrupted) and record "cancelled" with nothing after it.
describe("cancel stops a running job", () => {
  let h: StandinHandle;
  beforeAll(async () => {
    h = await startStandin({ variant: "official", model: "cosyvoice1", firstChunkDelayMs: 0, chunkDelayMs: 1500 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("records cancelled after the first chunk and produces no further chunk", async () => {
    const session = "cancel-me";
    const data = ["One. Two. Three. Four. Five.", "预训练音色", "中文女", "", null, null, "", 0, false, 1];
    // join first: gradio answers a stream opened for a session without events with unexpected_error
    const joined = await joinQueue(h.url, { fn_index: 1, data, session_hash: session });
    if (!joined.ok) throw new Error(`join refused: ${JSON.stringify(joined)}`);
    const stream = await openQueueStream(h.url, session);
    try {
      await stream.waitFor((m) => m.msg === "process_generating" && m.event_id === joined.eventId);
      expect(await cancelJob(h.url, { session_hash: session, fn_index: 1, event_id: joined.eventId })).toBe(200);
      const completed = await stream.waitFor((m) => m.msg === "process_completed" && m.event_id === joined.eventId);
      // the cancelled job's completion carries no output and claims success
      expect(completed["success"]).toBe(true);

      const rec = await waitForRecord(h.record, (r) => r.some((e) => e.event === "cancelled"));
      const job = rec.find((e) => e.event === "cancelled")?.["job"];
      // wait longer than two more chunks would take, then look again
      await new Promise((r) => setTimeout(r, 3500));
      // `applied` says which instruction controls the speech used (none here); it is not a step of the job.
      const events = readRecord(h.record).filter((e) => e["job"] === job && e.event !== "applied").map((e) => e.event);
      expect(events).toEqual(["call", "chunk", "cancelled"]);
    } finally {
      stream.close();
    }
  });

  // gradio 5's trap for a job still waiting in the queue (why the SDK closes such a job's stream
  // before its POST /cancel): /cancel only completes the event, which ends the session's stream
  // cleanly, so the job stays queued and runs once a worker frees; a disconnect while it waits
  // (`clean_events`) is what takes it out of the queue.
  it("a queued job: /cancel alone leaves it queued and it runs later; closing its stream takes it out", async () => {
    const job = (text: string) => [text, "预训练音色", "中文女", "", null, null, "", 0, false, 1];
    const streams: Awaited<ReturnType<typeof openQueueStream>>[] = [];
    try {
      // The UI's two workers, busy for three chunks of 1.5 s.
      const blockers: Promise<unknown>[] = [];
      for (const session of ["blocker-0", "blocker-1"]) {
        const joined = await joinQueue(h.url, { fn_index: 1, data: job("Busy one. Busy two. Busy three."), session_hash: session });
        if (!joined.ok) throw new Error(`join refused: ${JSON.stringify(joined)}`);
        const stream = await openQueueStream(h.url, session);
        streams.push(stream);
        blockers.push(stream.waitFor((m) => m.msg === "process_completed" && m.event_id === joined.eventId, 30_000));
        await stream.waitFor((m) => m.msg === "process_starts" && m.event_id === joined.eventId);
      }
      const queue = async (session: string, text: string) => {
        const joined = await joinQueue(h.url, { fn_index: 1, data: job(text), session_hash: session });
        if (!joined.ok) throw new Error(`join refused: ${JSON.stringify(joined)}`);
        const stream = await openQueueStream(h.url, session);
        streams.push(stream);
        await stream.waitFor((m) => m.msg === "estimation" && m.event_id === joined.eventId);
        return { eventId: joined.eventId, stream };
      };
      const cancelled = await queue("cancelled-only", "Cancelled, yet spoken.");
      expect(await cancelJob(h.url, { session_hash: "cancelled-only", fn_index: 1, event_id: cancelled.eventId })).toBe(200);
      await cancelled.stream.waitFor((m) => m.msg === "process_completed" && m.event_id === cancelled.eventId);
      await cancelled.stream.waitFor((m) => m.msg === "close_stream");
      cancelled.stream.close();
      const disconnected = await queue("disconnected", "Never spoken.");
      disconnected.stream.close();
      await Promise.all(blockers);
      const spoken = (text: string) => readRecord(h.record).some((e) => e.event === "call" && JSON.stringify(e).includes(text));
      await waitForRecord(h.record, () => spoken("Cancelled, yet spoken."), 15_000);
      // By now the disconnected job, joined after it, would have been called too.
      await new Promise((r) => setTimeout(r, 500));
      expect(spoken("Never spoken.")).toBe(false);
    } finally {
      for (const s of streams) s.close();
    }
  });

  it("keeps serving new jobs after a cancel", async () => {
    const session = "after-cancel";
    const data = ["Just one.", "预训练音色", "中文女", "", null, null, "", 0, false, 1];
    const joined = await joinQueue(h.url, { fn_index: 1, data, session_hash: session });
    if (!joined.ok) throw new Error("join refused");
    const stream = await openQueueStream(h.url, session);
    try {
      const done = await stream.waitFor((m) => m.msg === "process_completed" && m.event_id === joined.eventId);
      expect(done["success"]).toBe(true);
    } finally {
      stream.close();
    }
  });
});
