// The article's ocelot.json routes `/asr/{everything}` to a speech-recognition service; with
// ASR_URL pointing at the same server, the gateway's own transcripts (voices saved without
// one) and the clients that call `/asr/v1/audio/transcriptions` through the gateway reach one
// ASR: here the real ASR stand-in (pocketsphinx), under the article's file verbatim but for
// the ports, and the real web UI stand-in.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readRecord, startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRoutedGateway, tempRoot, type RoutedGateway } from "./helpers/passthrough.ts";

const SPOKEN = "Please call me tomorrow morning.";

describe("/asr/ of the routes file and ASR_URL: one server", () => {
  const tmp = tempRoot("asr-route-");
  let ui: StandinHandle;
  let asr: StandinHandle;
  let g: RoutedGateway;
  let wav: Uint8Array<ArrayBuffer>;

  beforeAll(async () => {
    [ui, asr] = await Promise.all([startStandin({ variant: "official", model: "cosyvoice3" }), startStandin({ serve: "asr" })]);
    const article = readFileSync(join(import.meta.dirname, "fixtures/article-ocelot.json"), "utf8");
    const text = article.replace('"Port": 7860', `"Port": ${ui.port}`).replace('"Port": 8000', `"Port": ${asr.port}`);
    g = await startRoutedGateway(tmp.root, text, { cosyvoiceUrls: [ui.url], asr: { url: `${asr.url}/v1`, model: "whisper-1", timeoutMs: 30_000 } }, "ocelot.json");
    const file = join(tmp.root, "prompt.wav");
    execFileSync("espeak-ng", ["-v", "en-us+f3", "-s", "150", "-w", file, SPOKEN]);
    wav = new Uint8Array(readFileSync(file));
  }, 120_000);
  afterAll(async () => {
    await g?.close();
    await Promise.all([ui?.stop(), asr?.stop()]);
    tmp.cleanup();
  });

  it("a client transcribes through the gateway's /asr/ route", async () => {
    const form = new FormData();
    form.set("file", new Blob([wav], { type: "audio/wav" }), "prompt.wav");
    form.set("model", "whisper-1");
    const res = await fetch(`${g.url}/asr/v1/audio/transcriptions`, { method: "POST", body: form });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ text: "please call me tomorrow morning" });
  });

  it("the gateway's own transcript of a voice comes from the same server", async () => {
    const form = new FormData();
    form.set("name", "Heard");
    form.set("audio", new Blob([wav], { type: "audio/wav" }), "prompt.wav");
    const res = await fetch(`${g.url}/voices`, { method: "POST", body: form });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ promptText: "please call me tomorrow morning", promptTextSource: "asr" });
    expect(readRecord(asr.record).filter((e) => e.event === "end")).toHaveLength(2);
  });
});
