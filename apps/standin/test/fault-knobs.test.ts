import { afterEach, describe, expect, it } from "vitest";
import { Client } from "@gradio/client";
import { closeGradioClient, joinQueue, openQueueStream, readRecord, startStandin, type StandinHandle } from "@cosyvoice3/testkit";

const SFT = ["First one. Second one. Third one.", "预训练音色", "中文女", "", null, null, "", 0, false, 1];

interface Outcome {
  stage: string;
  warnings: string[];
  data: number;
}

async function run(client: Client, data: unknown[]): Promise<Outcome> {
  const out: Outcome = { stage: "", warnings: [], data: 0 };
  for await (const m of client.submit("/generate_audio", data)) {
    if (m.type === "log" && m.level === "warning") out.warnings.push(m.log);
    if (m.type === "data") out.data++;
    if (m.type === "status" && (m.stage === "complete" || m.stage === "error")) {
      out.stage = m.stage;
      return out;
    }
  }
  return out;
}

// The knobs other tests use to provoke upstream trouble; each must do what its flag says.
describe("fault knobs", () => {
  let h: StandinHandle | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it("--fail-rate 1 fails every job with a hidden error and records it", async () => {
    h = await startStandin({ model: "cosyvoice1", failRate: 1 });
    const client = await Client.connect(h.url, { events: ["data", "status", "log"] });
    for (let i = 0; i < 2; i++) expect((await run(client, SFT)).stage).toBe("error");
    await closeGradioClient(client);
    const errors = readRecord(h.record).filter((e) => e.event === "error");
    expect(errors.map((e) => e["message"])).toEqual(["injected failure (--fail-rate)", "injected failure (--fail-rate)"]);
    expect(errors.every((e) => Number(e["chunks"]) < 3)).toBe(true);
  });

  it("--force-warning warns and yields silence, then (official UI) carries on", async () => {
    h = await startStandin({ model: "cosyvoice1", forceWarning: true });
    const client = await Client.connect(h.url, { events: ["data", "status", "log"] });
    const out = await run(client, SFT);
    await closeGradioClient(client);
    expect(out.stage).toBe("complete");
    expect(out.warnings).toHaveLength(1);
    const chunks = readRecord(h.record).filter((e) => e.event === "chunk");
    expect(chunks.map((c) => c["silent"])).toEqual([true, false, false, false]);
  });

  it("--crash-after-chunks 2 kills the process after the second chunk", async () => {
    h = await startStandin({ model: "cosyvoice1", crashAfterChunks: 2 });
    const proc = h.process;
    const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
    // raw protocol here: @gradio/client reports a dropped connection on the console
    const joined = await joinQueue(h.url, { fn_index: 1, data: SFT, session_hash: "crash" });
    if (!joined.ok) throw new Error("join refused");
    const stream = await openQueueStream(h.url, "crash");
    expect(await exited).toBe(70);
    stream.close();
    const rec = readRecord(h.record);
    expect(rec.filter((e) => e.event === "chunk")).toHaveLength(2);
    expect(rec.at(-1)).toMatchObject({ event: "crash", chunks_in_process: 2 });
  });

  it("--first-chunk-delay-ms holds the first chunk back (recorded time after the call)", async () => {
    h = await startStandin({ model: "cosyvoice1", firstChunkDelayMs: 800 });
    const client = await Client.connect(h.url, { events: ["data", "status", "log"] });
    expect((await run(client, SFT)).stage).toBe("complete");
    await closeGradioClient(client);
    const rec = readRecord(h.record);
    const call = rec.find((e) => e.event === "call");
    const first = rec.find((e) => e.event === "chunk");
    expect(Number(first?.["t"]) - Number(call?.["t"])).toBeGreaterThanOrEqual(800);
  });
});
