/**
 * Figure 1: `CosyVoice.synthesize` versus bare `@gradio/client` predict plus fetching the final
 * audio (`playlist-file`), the approach of `packages/sdk/bench/sdk-overhead.ts`: the same
 * pretrained call on the official UI with a CosyVoice 1 model (no upload on either side),
 * interleaved ABAB/BABA so drift hits both alike.
 */
import { Client } from "@gradio/client";
import { startStandin } from "@cosyvoice3/testkit";
import { CosyVoice } from "cosyvoice3-sdk";
import { summarize, timed, type Summary } from "../stats.ts";

export const TEXT = "The quick brown fox jumps over the lazy dog.";
export const SPEAKER = "英文女";

export interface SdkOverhead {
  sdk: Summary;
  bare: Summary;
  ratio: number;
}

export async function sdkOverhead(runs: number, log: (s: string) => void): Promise<SdkOverhead> {
  const standin = await startStandin({ variant: "official", model: "cosyvoice1" });
  try {
    const cv = await CosyVoice.connect(standin.url, { model: "cosyvoice1", maxRetries: 0 });
    const bare = await Client.connect(standin.url);
    const raw = [TEXT, "预训练音色", SPEAKER, "", null, null, "", 1, false, 1];
    const bareOnce = async () => {
      const res = await bare.predict("/generate_audio", raw);
      const file = (res.data as { url: string }[])[0]!;
      const wav = await fetch(file.url.replace(/playlist\.m3u8$/, "playlist-file"));
      const bytes = await wav.arrayBuffer();
      if (!wav.ok || bytes.byteLength < 1000) throw new Error(`bare client: bad audio (${wav.status})`);
    };
    const sdkOnce = async () => {
      const r = await cv.synthesize({ mode: "pretrained", text: TEXT, voice: SPEAKER, seed: 1 });
      if (r.audio.byteLength < 1000) throw new Error("sdk: bad audio");
    };
    for (let i = 0; i < 3; i++) {
      await bareOnce();
      await sdkOnce();
    }
    const sdk: number[] = [];
    const bareMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      if (i % 2 === 0) {
        bareMs.push(await timed(bareOnce));
        sdk.push(await timed(sdkOnce));
      } else {
        sdk.push(await timed(sdkOnce));
        bareMs.push(await timed(bareOnce));
      }
    }
    await cv.close();
    bare.close();
    const s = summarize(sdk);
    const b = summarize(bareMs);
    log(`  sdk p50 ${s.p50} ms, bare p50 ${b.p50} ms`);
    return { sdk: s, bare: b, ratio: s.p50 / b.p50 };
  } finally {
    await standin.stop();
  }
}
