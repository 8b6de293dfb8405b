import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, handle_file } from "@gradio/client";
import { closeGradioClient, readRecord, startStandin, synthWav, type RecordEntry, type StandinHandle } from "@cosyvoice3/testkit";

const PREFIX = "You are a helpful assistant.<|endofprompt|>";

interface Outcome {
  stage: string;
  message: unknown;
  chunks: number;
}

async function run(client: Client, data: unknown[]): Promise<Outcome> {
  let chunks = 0;
  for await (const m of client.submit("/generate_audio", data)) {
    if (m.type === "data") chunks++;
    if (m.type === "status" && (m.stage === "complete" || m.stage === "error")) {
      return { stage: m.stage, message: m.message ?? null, chunks };
    }
  }
  throw new Error("stream ended without completion");
}

function lastEnd(h: StandinHandle): RecordEntry | undefined {
  return readRecord(h.record).findLast((e) => ["done", "error", "cancelled"].includes(e.event));
}

const voice = (): unknown => handle_file(new File([new Uint8Array(synthWav())], "voice.wav", { type: "audio/wav" }));

// What the real CosyVoice3 model does with input the UI lets through; the UI sets no
// show_error, so the client only learns that the job failed (hidden error), never why.
describe("official UI, CosyVoice3 model failures", () => {
  let h: StandinHandle;
  let client: Client;
  beforeAll(async () => {
    h = await startStandin({ variant: "official", model: "cosyvoice3" });
    client = await Client.connect(h.url, { events: ["data", "status", "log"] });
  });
  afterAll(async () => {
    await closeGradioClient(client);
    await h?.stop();
  });

  it("fails a zero-shot job whose prompt text lacks <|endofprompt|>, as a hidden error", async () => {
    const out = await run(client, ["Hello there. Bye.", "3s极速复刻", "", "Hello, this is my voice.", voice(), null, "", 0, false, 1]);
    expect(out.stage).toBe("error");
    expect(out.chunks).toBe(0);
    expect(lastEnd(h)).toMatchObject({ event: "error", error: "AssertionError" });
    expect(String(lastEnd(h)?.["message"])).toContain("<|endofprompt|> not detected");
  });

  it("succeeds once the prompt text carries the prefix", async () => {
    const out = await run(client, ["Hello there. Bye.", "3s极速复刻", "", `${PREFIX}Hello, this is my voice.`, voice(), null, "", 0, false, 1]);
    expect(out.stage).toBe("complete");
    expect(lastEnd(h)).toMatchObject({ event: "done", chunks: 2 });
  });

  it("fails cross-lingual text without the prefix and accepts it with", async () => {
    expect((await run(client, ["Hello there.", "跨语种复刻", "", "", voice(), null, "", 0, false, 1])).stage).toBe("error");
    expect((await run(client, [`${PREFIX}Hello there.`, "跨语种复刻", "", "", voice(), null, "", 0, false, 1])).stage).toBe("complete");
  });

  it("fails instruct mode, which only CosyVoice1 implements", async () => {
    const out = await run(client, ["Hello.", "自然语言控制", "", "", null, null, `${PREFIX}Speak happily.`, 0, false, 1]);
    expect(out.stage).toBe("error");
    expect(String(lastEnd(h)?.["message"])).toContain("only implemented for CosyVoice");
  });

  it("fails a non-integer seed the way numpy's seed call does", async () => {
    const out = await run(client, [`Hello.`, "3s极速复刻", "", `${PREFIX}Hi.`, voice(), null, "", 1.5, false, 1]);
    expect(out.stage).toBe("error");
    const call = readRecord(h.record).findLast((e) => e.event === "call");
    expect((call?.["inputs"] as Record<string, unknown>)["seed"]).toEqual({ value: 1.5, type: "float" });
    expect(lastEnd(h)).toMatchObject({ event: "error", error: "TypeError" });
  });

  it("refuses a speed outside 0.5..2.0 with a visible gradio error, before the function runs", async () => {
    const calls = readRecord(h.record).filter((e) => e.event === "call").length;
    const out = await run(client, [`Hello.`, "3s极速复刻", "", `${PREFIX}Hi.`, voice(), null, "", 0, false, 3]);
    expect(out.stage).toBe("error");
    expect(String(out.message)).toMatch(/2/);
    expect(readRecord(h.record).filter((e) => e.event === "call").length).toBe(calls);
  });
});
