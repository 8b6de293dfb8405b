/**
 * Issue 18's figure: a 10,000-character narration job's wall time over the sum of its segments'
 * synthesis times, with one box and with two. A segment's synthesis time is the synthesis call
 * the job made for it, as long as a `POST /synthesize` of that text takes (the service call:
 * the UI's queue, the model, the UI's post-processing, the transfer; written in each finished
 * segment's record), so the ratio is what the job adds: splitting, queueing, persisting every
 * segment, joining and encoding the narration (MP3), and what running segments side by side on
 * two boxes saves. The stand-in's own call-to-done times (the model alone) are in the detail.
 * The stand-ins act like a GPU (a delay before every chunk).
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readRecord, startStandin, type RecordEntry, type StandinHandle } from "@cosyvoice3/testkit";
import { startGatewayProcess } from "../procs.ts";
import { round } from "../stats.ts";

const SUBJECTS = ["The old lighthouse keeper", "A quiet fox", "The river", "Our narrator", "The last train", "Mrs. Hale from the village"];
const VERBS = ["watched", "remembered", "crossed", "followed", "measured", "described"];
const OBJECTS = ["the grey horizon", "a letter sealed long ago", "the frozen road to the pass", "the lamps along the pier", "every word of the old song"];

/** English prose of `chars` characters (deterministic), paragraphs of five sentences. */
export function benchText(chars: number): string {
  const out: string[] = [];
  let n = 0;
  let i = 0;
  while (n < chars) {
    const s = `${SUBJECTS[i % SUBJECTS.length]} ${VERBS[(i * 7) % VERBS.length]} ${OBJECTS[(i * 5) % OBJECTS.length]}${i % 4 === 3 ? ", slowly and without a word" : ""}.`;
    out.push(s + (i % 5 === 4 ? "\n\n" : " "));
    n += s.length + 1;
    i++;
  }
  return out.join("").slice(0, chars).replace(/\s+\S*$/, ".");
}

export interface JobFigureArm {
  /** POST /jobs to succeeded, as the client saw it. @unit milliseconds */
  wallMs: number;
  /** Sum over the job's segments of their synthesis calls' durations. @unit milliseconds */
  segmentsSumMs: number;
  /** Sum over the job's segments of the stand-in's call-to-done (the model alone). @unit milliseconds */
  modelSumMs: number;
  ratio: number;
  segments: number;
  /** Segments per stand-in. */
  perBackend: number[];
  /** Length of the narration. @unit milliseconds */
  audioMs: number;
}

export interface JobFigure {
  chars: number;
  chunkDelayMs: number;
  one: JobFigureArm;
  two: JobFigureArm;
}

/** call-to-done of each generate_audio job in a record, since entry `from`. */
function boxTimes(entries: RecordEntry[]): number[] {
  const calls = new Map<string, number>();
  const out: number[] = [];
  for (const e of entries) {
    if (e.event === "call" && e["fn"] === "generate_audio") calls.set(String(e["job"]), Number(e["t"]));
    if (e.event === "done" && calls.has(String(e["job"]))) out.push(Number(e["t"]) - (calls.get(String(e["job"])) as number));
  }
  return out;
}

async function arm(standins: StandinHandle[], text: string, log: (s: string) => void): Promise<JobFigureArm> {
  const dataDir = mkdtempSync(join(tmpdir(), "bench-jobs-"));
  const gw = await startGatewayProcess({ COSYVOICE_URL: standins.map((s) => s.url).join(","), COSYVOICE_MODEL: "cosyvoice1", CONCURRENCY: "2", UPSTREAM_TIMEOUT_MS: "600000", DATA_DIR: dataDir });
  try {
    const voice = "builtin:英文女";
    // Warm-up: every box connected (the SDK's first connect is not the job's cost).
    await Promise.all(standins.map(() => fetch(`${gw.url}/synthesize`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "Warm up.", voice }) }).then((r) => r.arrayBuffer())));
    const before = standins.map((s) => readRecord(s.record).length);
    const t = performance.now();
    const res = await fetch(`${gw.url}/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text, voice, format: "mp3" }) });
    const accepted = (await res.json()) as { id: string; segments: { total: number } };
    if (res.status !== 202) throw new Error(`POST /jobs answered ${res.status}: ${JSON.stringify(accepted)}`);
    let job: { status: string; durationMs?: number; segments: { done: number; total: number } };
    for (;;) {
      job = (await (await fetch(`${gw.url}/jobs/${accepted.id}`)).json()) as typeof job;
      if (job.status !== "queued" && job.status !== "running") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const wallMs = performance.now() - t;
    if (job.status !== "succeeded") throw new Error(`the bench job ${job.status}`);
    const times = standins.map((s, i) => boxTimes(readRecord(s.record).slice(before[i])));
    const modelSumMs = times.flat().reduce((a, b) => a + b, 0);
    // Each finished segment's record says how long its synthesis call took.
    const segDir = join(dataDir, "jobs", accepted.id);
    const segmentsSumMs = readdirSync(segDir)
      .filter((n) => /^seg-\d+\.json$/.test(n))
      .reduce((sum, n) => sum + (JSON.parse(readFileSync(join(segDir, n), "utf8")) as { synthMs: number }).synthMs, 0);
    const out = {
      wallMs: round(wallMs, 0),
      segmentsSumMs: round(segmentsSumMs, 0),
      modelSumMs: round(modelSumMs, 0),
      ratio: round(wallMs / segmentsSumMs, 3),
      segments: accepted.segments.total,
      perBackend: times.map((x) => x.length),
      audioMs: job.durationMs ?? 0,
    };
    log(`  ${standins.length} box(es): wall ${out.wallMs} ms, segments' sum ${out.segmentsSumMs} ms (the model alone ${out.modelSumMs} ms), ratio ${out.ratio} (${out.segments} segments: ${out.perBackend.join(" + ")})`);
    return out;
  } finally {
    await gw.stop();
  }
}

/**
 * @example const f = await jobsFigure(10_000, 150, log); f.one.ratio <= 1.1 && f.two.ratio <= 0.6
 */
export async function jobsFigure(chars: number, chunkDelayMs: number, log: (s: string) => void): Promise<JobFigure> {
  const standins: StandinHandle[] = [];
  try {
    for (let i = 0; i < 2; i++) standins.push(await startStandin({ variant: "official", model: "cosyvoice1", firstChunkDelayMs: chunkDelayMs, chunkDelayMs }));
    const text = benchText(chars);
    const one = await arm(standins.slice(0, 1), text, log);
    const two = await arm(standins, text, log);
    return { chars, chunkDelayMs, one, two };
  } finally {
    await Promise.all(standins.map((s) => s.stop()));
  }
}
