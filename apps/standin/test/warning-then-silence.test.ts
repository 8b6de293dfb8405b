import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, handle_file } from "@gradio/client";
import { closeGradioClient, readRecord, startStandin, synthWav, type RecordEntry, type StandinHandle } from "@cosyvoice3/testkit";

interface Seen {
  order: string[];
  warnings: string[];
  stage: string;
}

async function run(client: Client, data: unknown[]): Promise<Seen> {
  const seen: Seen = { order: [], warnings: [], stage: "" };
  for await (const m of client.submit("/generate_audio", data)) {
    if (m.type === "log" && m.level === "warning") {
      seen.order.push("warning");
      seen.warnings.push(m.log);
    }
    if (m.type === "data") seen.order.push("data");
    if (m.type === "status" && (m.stage === "complete" || m.stage === "error")) {
      seen.stage = m.stage;
      return seen;
    }
  }
  throw new Error("stream ended without completion");
}

function chunksOfLastJob(h: StandinHandle): RecordEntry[] {
  const rec = readRecord(h.record);
  const job = rec.findLast((e) => e.event === "call")?.["job"];
  return rec.filter((e) => e.event === "chunk" && e["job"] === job);
}

const voice = (): unknown => handle_file(new File([new Uint8Array(synthWav())], "voice.wav", { type: "audio/wav" }));

// Validation problems are not failures in the real UIs: gr.Warning (a log message with level
// warning), one second of silence, and then the official UI carries on while cv3-en returns.
describe("warnings: official UI carries on after the silence", () => {
  let h: StandinHandle;
  let client: Client;
  beforeAll(async () => {
    h = await startStandin({ variant: "official", model: "cosyvoice2" });
    client = await Client.connect(h.url, { events: ["data", "status", "log"] });
  });
  afterAll(async () => {
    await closeGradioClient(client);
    await h?.stop();
  });

  it("warns about the empty prompt text, yields 1 s of silence, then speaks anyway", async () => {
    const seen = await run(client, ["One sentence. Two sentences.", "3s极速复刻", "", "", voice(), null, "", 0, false, 1]);
    expect(seen.stage).toBe("complete");
    expect(seen.warnings).toEqual(["prompt文本为空，您是否忘记输入prompt文本？"]);
    expect(seen.order[0]).toBe("warning");
    const chunks = chunksOfLastJob(h);
    expect(chunks.map((c) => c["silent"])).toEqual([true, false, false]);
    expect(chunks[0]).toMatchObject({ samples: 24_000, duration_ms: 1000 });
  });

  it("warns about a prompt below 16 kHz, then carries on", async () => {
    const low = handle_file(new File([new Uint8Array(synthWav({ sampleRate: 8000 }))], "low.wav", { type: "audio/wav" }));
    const seen = await run(client, ["Hello.", "3s极速复刻", "", "Hi.", low, null, "", 0, false, 1]);
    expect(seen.warnings).toEqual(["prompt音频采样率8000低于16000"]);
    expect(seen.stage).toBe("complete");
  });

  it("warns about a missing prompt audio and then fails inside the model (hidden error)", async () => {
    const seen = await run(client, ["Hello.", "3s极速复刻", "", "Hi.", null, null, "", 0, false, 1]);
    expect(seen.warnings).toEqual(["prompt音频为空，您是否忘记输入prompt音频？"]);
    expect(seen.order.slice(0, 2)).toEqual(["warning", "data"]);
    expect(seen.stage).toBe("error");
  });
});

describe("warnings: cv3-en returns after the silence", () => {
  let h: StandinHandle;
  let client: Client;
  beforeAll(async () => {
    h = await startStandin({ variant: "cv3-en", model: "cosyvoice3" });
    client = await Client.connect(h.url, { events: ["data", "status", "log"] });
  });
  afterAll(async () => {
    await closeGradioClient(client);
    await h?.stop();
  });

  it("warns, yields only the silence and completes successfully", async () => {
    const seen = await run(client, ["Hello there.", "3s Zero-Shot", "", null, null, "", 0, false, 1]);
    expect(seen.stage).toBe("complete");
    expect(seen.warnings).toEqual(["Prompt audio is empty, did you forget to upload it?"]);
    // @gradio/client repeats the last output as a data event on completion: the silence, twice
    expect(seen.order).toEqual(["warning", "data", "data"]);
    expect(chunksOfLastJob(h).map((c) => c["silent"])).toEqual([true]);
  });

  it("adds the CosyVoice3 prefix itself in zero-shot and cross-lingual modes", async () => {
    expect((await run(client, ["Hello there. Bye.", "3s Zero-Shot", "Hi, my voice.", voice(), null, "", 0, false, 1])).stage).toBe("complete");
    expect(chunksOfLastJob(h)).toHaveLength(2);
    expect((await run(client, ["Hello there.", "Cross-Lingual", "", voice(), null, "", 0, false, 1])).stage).toBe("complete");
  });

  it("runs Instruct through instruct2, which needs <|endofprompt|> in the instruct text on CosyVoice3", async () => {
    expect((await run(client, ["Hello.", "Instruct", "", voice(), null, "Speak happily.<|endofprompt|>", 0, false, 1])).stage).toBe("complete");
    expect((await run(client, ["Hello.", "Instruct", "", voice(), null, "Speak happily.", 0, false, 1])).stage).toBe("error");
    const seen = await run(client, ["Hello.", "Instruct", "", null, null, "Speak happily.<|endofprompt|>", 0, false, 1]);
    expect(seen.warnings).toEqual(["Please provide prompt audio"]);
  });
});
