/**
 * Figure 1: `CosyVoice.synthesize` versus bare `@gradio/client` predict plus fetching the final
 * audio (`playlist-file`), the approach of `packages/sdk/bench/sdk-overhead.ts`: the same
 * pretrained call on the official UI with a CosyVoice 1 model (no upload on either side), a
 * different sentence each run (the same one for every arm of that run), arms interleaved in a
 * rotating order so drift hits all alike.
 *
 * The baseline is the bare client given a fresh session hash per call. With its default single
 * session, gradio 5.4 reuses stream run ids within the session, so a later job is often answered
 * with an earlier job's cached playlist-file: faster, but the wrong audio. That arm is measured
 * too, with the number of stale answers, and is not the baseline.
 */
import { randomBytes } from "node:crypto";
import { Client } from "@gradio/client";
import { startStandin } from "@cosyvoice3/testkit";
import { CosyVoice } from "cosyvoice3-sdk";
import { summarize, timed, type Summary } from "../stats.ts";

export const TEXT = "The quick brown fox jumps over the lazy dog.";
export const SPEAKER = "英文女";

const sentence = (i: number) => `Sentence number ${i} is spoken by the stand-in now.`;

export interface SdkOverhead {
  sdk: Summary;
  /** The baseline: a fresh session per call. */
  bare: Summary;
  bareSharedSession: Summary & { staleAudioRuns: number };
  /** p50(sdk) / p50(bare, fresh session). */
  ratio: number;
}

export async function sdkOverhead(runs: number, log: (s: string) => void): Promise<SdkOverhead> {
  const standin = await startStandin({ variant: "official", model: "cosyvoice1" });
  try {
    const cv = await CosyVoice.connect(standin.url, { model: "cosyvoice1", maxRetries: 0 });
    const bare = await Client.connect(standin.url);
    const seenRuns = new Set<string>();
    let stale = 0;
    const bareOnce = async (text: string, freshSession: boolean) => {
      if (freshSession) bare.session_hash = randomBytes(8).toString("hex");
      const res = await bare.predict("/generate_audio", [text, "预训练音色", SPEAKER, "", null, null, "", 1, false, 1]);
      const file = (res.data as { url: string }[])[0]!;
      const run = file.url.split("/stream/")[1]?.replace(/playlist\.m3u8$/, "") ?? file.url;
      if (!freshSession && seenRuns.has(run)) stale++;
      seenRuns.add(run);
      const wav = await fetch(file.url.replace(/playlist\.m3u8$/, "playlist-file"));
      const bytes = await wav.arrayBuffer();
      if (!wav.ok || bytes.byteLength < 1000) throw new Error(`bare client: bad audio (${wav.status})`);
    };
    const sdkOnce = async (text: string) => {
      const r = await cv.synthesize({ mode: "pretrained", text, voice: SPEAKER, seed: 1 });
      if (r.audio.byteLength < 1000) throw new Error("sdk: bad audio");
    };
    const arms: [string, (text: string) => Promise<void>][] = [
      ["sdk", sdkOnce],
      ["fresh", (t) => bareOnce(t, true)],
      ["shared", (t) => bareOnce(t, false)],
    ];
    for (let i = 0; i < 3; i++) for (const [, fn] of arms) await fn(sentence(1000 + i));
    seenRuns.clear();
    stale = 0;
    const samples: Record<string, number[]> = { sdk: [], fresh: [], shared: [] };
    for (let i = 0; i < runs; i++) {
      for (let k = 0; k < arms.length; k++) {
        const [name, fn] = arms[(i + k) % arms.length]!;
        samples[name]!.push(await timed(() => fn(sentence(i))));
      }
    }
    await cv.close();
    bare.close();
    const s = summarize(samples["sdk"]!);
    const b = summarize(samples["fresh"]!);
    const shared = { ...summarize(samples["shared"]!), staleAudioRuns: stale };
    log(`  sdk p50 ${s.p50} ms, bare (fresh session) p50 ${b.p50} ms, bare (shared session) p50 ${shared.p50} ms with ${stale}/${runs} stale answers`);
    return { sdk: s, bare: b, bareSharedSession: shared, ratio: s.p50 / b.p50 };
  } finally {
    await standin.stop();
  }
}
