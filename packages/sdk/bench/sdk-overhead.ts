/**
 * SDK overhead: `CosyVoice.synthesize` versus a bare @gradio/client `predict` plus fetching the
 * final audio (`playlist-file`), against the same stand-in with no artificial delay. Three arms,
 * interleaved with a rotating order: the SDK, the bare client with a fresh session hash per call,
 * and the bare client with its default single session (which gradio 5.4 sometimes answers with
 * an earlier job's cached audio: counted, see `staleAudioRuns`). Prints and writes medians, p99
 * and the ratios of medians to bench/results/sdk.json at the repository root.
 *
 * Run: `pnpm bench:sdk` (env: BENCH_RUNS, default 60 per side; BENCH_WARMUP, default 5).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@gradio/client";
import { startStandin } from "@cosyvoice3/testkit";
import { CosyVoice, type SynthesisRequest } from "../src/index.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const RUNS = Number(process.env["BENCH_RUNS"] ?? 60);
const WARMUP = Number(process.env["BENCH_WARMUP"] ?? 5);

/** Sentences of similar length, one per run (the same one for every arm of that run). */
const texts = (i: number) => `Sentence number ${i % 50} is spoken by the stand-in now.`;

interface Scenario {
  name: string;
  variant: "official" | "cv3-en";
  model: "cosyvoice1" | "cosyvoice3";
  request: (text: string) => SynthesisRequest;
  /** The same call as positional parameters, for the bare client. */
  raw: (text: string) => unknown[];
}

const SCENARIOS: Scenario[] = [
  {
    name: "pretrained (official UI, CosyVoice 1, one sentence)",
    variant: "official",
    model: "cosyvoice1",
    request: (text) => ({ mode: "pretrained", text, voice: "英文女", seed: 1 }),
    raw: (text) => [text, "预训练音色", "英文女", "", null, null, "", 1, false, 1],
  },
];

function quantile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? NaN;
}
const round = (n: number) => Math.round(n * 10) / 10;
function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return {
    runs: s.length,
    medianMs: round(quantile(s, 0.5)),
    p90Ms: round(quantile(s, 0.9)),
    p99Ms: round(quantile(s, 0.99)),
    minMs: round(s[0] ?? NaN),
    maxMs: round(s.at(-1) ?? NaN),
  };
}

async function bench(sc: Scenario) {
  const standin = await startStandin({ variant: sc.variant, model: sc.model });
  try {
    const cv = await CosyVoice.connect(standin.url, { model: sc.model });
    // The bare client, connected once. Used as documented it keeps one session for every call.
    const bare = await Client.connect(standin.url);
    const seenRuns = new Set<string>();
    let staleBare = 0;
    const bareOnce = async (text: string, freshSession: boolean) => {
      // A fresh session per call costs no extra request: only the hash changes.
      if (freshSession) bare.session_hash = randomBytes(8).toString("hex");
      const res = await bare.predict("/generate_audio", sc.raw(text));
      const file = (res.data as { url: string }[])[0]!;
      // gradio 5.4 names a stream run by id(iterator); ids are reused, so within one session a
      // later job can land on an earlier job's stream and get its cached (wrong) playlist-file.
      const run = file.url.split("/stream/")[1]!.replace(/playlist\.m3u8$/, "");
      if (seenRuns.has(run)) staleBare++;
      seenRuns.add(run);
      const wav = await fetch(file.url.replace(/playlist\.m3u8$/, "playlist-file"));
      const bytes = new Uint8Array(await wav.arrayBuffer());
      if (!wav.ok || bytes.byteLength < 1000) throw new Error(`bare: bad audio (${wav.status}, ${bytes.byteLength} bytes)`);
    };
    const sdkOnce = async (text: string) => {
      const res = await cv.synthesize(sc.request(text));
      if (res.audio.byteLength < 1000) throw new Error("sdk: bad audio");
    };
    const arms: [string, (text: string) => Promise<void>][] = [
      ["sdk", sdkOnce],
      ["bareFreshSession", (t) => bareOnce(t, true)],
      ["bareSharedSession", (t) => bareOnce(t, false)],
    ];
    for (let i = 0; i < WARMUP; i++) for (const [, fn] of arms) await fn(texts(1000 + i));
    seenRuns.clear();
    staleBare = 0;
    const samples: Record<string, number[]> = Object.fromEntries(arms.map(([name]) => [name, []]));
    for (let i = 0; i < RUNS; i++) {
      // Rotate the order (ABC, BCA, CAB) so that no arm always runs right after another.
      for (let k = 0; k < arms.length; k++) {
        const [name, fn] = arms[(i + k) % arms.length]!;
        const t = performance.now();
        await fn(texts(i));
        samples[name]!.push(performance.now() - t);
      }
    }
    await cv.close();
    bare.close();
    const sdk = stats(samples["sdk"]!);
    const fresh = stats(samples["bareFreshSession"]!);
    const shared = stats(samples["bareSharedSession"]!);
    return {
      scenario: sc.name,
      sdk,
      bareFreshSession: fresh,
      bareSharedSession: { ...shared, staleAudioRuns: staleBare },
      ratioOfMedians: Math.round((sdk.medianMs / fresh.medianMs) * 1000) / 1000,
      ratioOfMediansVsSharedSession: Math.round((sdk.medianMs / shared.medianMs) * 1000) / 1000,
    };
  } finally {
    await standin.stop();
  }
}

const results = [];
for (const sc of SCENARIOS) {
  const r = await bench(sc);
  results.push(r);
  console.log(`\n${r.scenario}`);
  const line = (label: string, st: { medianMs: number; p99Ms: number; runs: number }) =>
    console.log(`  ${label.padEnd(58)} median ${st.medianMs} ms, p99 ${st.p99Ms} ms (${st.runs} runs)`);
  line("CosyVoice.synthesize", r.sdk);
  line("bare predict + playlist-file, fresh session per call", r.bareFreshSession);
  line("bare predict + playlist-file, one shared session", r.bareSharedSession);
  console.log(`  shared session: ${r.bareSharedSession.staleAudioRuns}/${RUNS} runs got an earlier job's cached audio`);
  console.log(`  ratio of medians sdk / bare (fresh session): ${r.ratioOfMedians}  (aim <= 1.10)`);
  console.log(`  ratio of medians sdk / bare (shared session, partly wrong audio): ${r.ratioOfMediansVsSharedSession}`);
}
const out = {
  benchmark: "sdk-overhead",
  date: new Date().toISOString(),
  node: process.version,
  runsPerSide: RUNS,
  warmupPerSide: WARMUP,
  interleaved: true,
  aim: "ratioOfMedians <= 1.10",
  notes:
    "ratioOfMedians compares with the bare client given a fresh session hash per call (same work, correct audio). " +
    "With its default single session, gradio 5.4 reuses stream run ids (id(iterator)) within the session, so many bare " +
    "calls get an earlier job's cached playlist-file: faster, but the wrong audio (staleAudioRuns).",
  results,
};
const file = join(ROOT, "bench/results/sdk.json");
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
console.log(`\nwritten to ${file}`);
