/**
 * Prompt audio reaches the UI with a real file name and MIME type (a bare Buffer or Blob is not
 * sent as "blob"), and the same prompt reused across calls is uploaded once while the server
 * still has it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { CosyVoice } from "../src/index.ts";
import { calls, countingFetch, makeWav } from "./helpers.ts";

describe("prompt upload", () => {
  let standin: StandinHandle;
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice3" });
  });
  afterAll(async () => {
    await standin?.stop();
  });

  const uploaded = () => calls(standin.record).at(-1)?.["prompt_wav_upload"] as { file_name: string; sample_rate: number } | null;

  it("file names: given names kept, bare bytes and Blobs named prompt.wav", async () => {
    const cv = await CosyVoice.connect(standin.url);
    const wav = makeWav({ sampleRate: 22_050, seconds: 2 });
    const cases: [unknown, string][] = [
      [{ data: wav, name: "alice.wav", mimeType: "audio/wav" }, "alice.wav"],
      [new File([wav], "bob.wav"), "bob.wav"],
      [Buffer.from(makeWav({ hz: 200 })), "prompt.wav"],
      [new Blob([makeWav({ hz: 210 })]), "prompt.wav"],
    ];
    for (const [promptAudio, name] of cases) {
      await cv.synthesize({ mode: "crossLingual", text: "Hello.", promptAudio: promptAudio as Uint8Array });
      expect(uploaded()?.file_name).toBe(name);
    }
    expect(uploaded()?.sample_rate).toBe(16_000);
    await cv.close();
  });

  it("the same prompt is uploaded once; a stale entry is checked with HEAD, not re-uploaded", async () => {
    const counter = countingFetch();
    const cv = await CosyVoice.connect(standin.url, { fetch: counter.fetch, uploadVerifyAfterMs: 60_000 });
    const prompt = makeWav({ hz: 150 });
    for (let i = 0; i < 3; i++) await cv.synthesize({ mode: "crossLingual", text: `Call ${i}.`, promptAudio: prompt });
    expect(counter.requests.filter((r) => r.path.endsWith("/upload"))).toHaveLength(1);
    const paths = calls(standin.record).slice(-3).map((c) => (c["prompt_wav_upload"] as { path: string }).path);
    expect(new Set(paths).size).toBe(1);
    await cv.close();

    const stale = countingFetch();
    const cv2 = await CosyVoice.connect(standin.url, { fetch: stale.fetch, uploadVerifyAfterMs: 0 });
    await cv2.synthesize({ mode: "crossLingual", text: "Once.", promptAudio: prompt });
    await cv2.synthesize({ mode: "crossLingual", text: "Twice.", promptAudio: prompt });
    expect(stale.requests.filter((r) => r.path.endsWith("/upload"))).toHaveLength(1);
    expect(stale.requests.filter((r) => r.method === "HEAD")).toHaveLength(1);
    await cv2.close();
  });
});
