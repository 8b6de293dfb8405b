/**
 * One cap per box. A box that is both the REST API's backend (COSYVOICE_URL) and a backend of
 * the `/cosyvoice/` route runs at most CONCURRENCY + QUEUE_SIZE jobs from both doors together:
 * past it a passthrough join is refused the way Gradio refuses a full queue (503,
 * `{"detail": "Queue is full..."}`, which Gradio's clients understand), a REST request gets its
 * 503 `busy` problem, and the UI's own queue never fills. A slot is freed when the job's event
 * stream says it completed.
 */
import { joinQueue, openQueueStream, readRecord, waitForRecord, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBoxes, startRoutedGateway, tempRoot, type RoutedGateway } from "./helpers/passthrough.ts";

const pretrained = (text: string) => [text, "预训练音色", "中文女", "", null, null, "", 0, false, 1];
const calls = (box: StandinHandle) => readRecord(box.record).filter((e) => e.event === "call" && e["fn"] === "generate_audio");

describe("the passthrough and the REST API share each box's job cap", () => {
  const tmp = tempRoot("passthrough-shared-cap-");
  let box: StandinHandle;
  let g: RoutedGateway;

  beforeAll(async () => {
    // CosyVoice1 has built-in speakers, so both doors can run a pretrained job; each takes ~2 s.
    [box] = (await startBoxes(tmp.root, 1, { model: "cosyvoice1", firstChunkDelayMs: 2_000 })) as [StandinHandle];
    g = await startRoutedGateway(tmp.root, `routes:\n  - path: /cosyvoice/\n    kind: gradio\n    backends: ["${box.url}"]\n`, {
      cosyvoiceUrls: [box.url],
      model: "cosyvoice1",
      concurrency: 1,
      queueSize: 0,
    });
  });
  afterAll(async () => {
    await g?.close();
    await box?.stop();
    tmp.cleanup();
  });

  const synthesize = (text: string) =>
    fetch(`${g.url}/synthesize`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text, voice: "builtin:中文女" }) });

  it("a REST job holds the box: a passthrough join is refused like a full Gradio queue", async () => {
    const rest = synthesize("The REST job runs first.");
    await waitForRecord(box.record, (r) => r.some((e) => e.event === "call" && e["fn"] === "generate_audio"));
    const join = await joinQueue(`${g.url}/cosyvoice`, { fn_index: 1, session_hash: "refused-1", data: pretrained("I am refused.") });
    expect(join).toMatchObject({ ok: false, status: 503, body: { detail: expect.stringMatching(/^Queue is full/) } });
    expect((await rest).status).toBe(201);
    // The refused join never reached the UI.
    expect(calls(box).filter((c) => c["session_hash"] === "refused-1")).toEqual([]);
  });

  it("a passthrough job holds the box: a REST request is busy until its stream says it completed", async () => {
    const base = `${g.url}/cosyvoice`;
    const join = await joinQueue(base, { fn_index: 1, session_hash: "holder-1", data: pretrained("The passthrough job runs now.") });
    expect(join.ok).toBe(true);
    const stream = await openQueueStream(base, "holder-1");
    const busy = await synthesize("I must wait.");
    expect(busy.status).toBe(503);
    expect(busy.headers.get("retry-after")).not.toBeNull();
    expect(await busy.json()).toMatchObject({ type: expect.stringContaining("busy") });
    await stream.waitFor((m) => m.msg === "process_completed");
    stream.close();
    // The slot is back as soon as the completion passed through the gateway.
    const deadline = Date.now() + 5_000;
    while ((g.gw.pool.slotsOf("backend-1")?.load.running ?? 1) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect((await synthesize("Now it is my turn.")).status).toBe(201);
  });

  it("the Retry-After of a refused join follows the box's job times", async () => {
    const rest = synthesize("Hold the box once more.");
    await waitForRecord(box.record, (r) => r.filter((e) => e.event === "call" && e["fn"] === "generate_audio").length >= 4);
    const res = await fetch(`${g.url}/cosyvoice/gradio_api/queue/join`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ fn_index: 1, session_hash: "refused-2", data: pretrained("Refused again."), event_data: null, trigger_id: null }),
    });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await rest).status).toBe(201);
  });
});
