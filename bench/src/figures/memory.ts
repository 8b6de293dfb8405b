/**
 * Figure 5: the gateway's RSS (its own process, built code) at its baseline (started and warmed
 * up), with 200 synthesis requests in flight against a delayed stand-in, and after 5,000 more
 * requests once it is idle again.
 *
 * 200 in flight, two ways: with the wait list raised to 200 (2 jobs run on the UI and 198 wait
 * in the gateway for a slot: 200 requests really held open), and with the default cap (2 running
 * + 2 waiting: 4 held, 196 answered 503 at once). The 5,000 requests are a mix, because a real
 * synthesis takes about a second on this box: every 25th is a synthesis (200 in all), the rest
 * are clip reads whole and by range, voice lists, health checks, malformed and invalid bodies,
 * unknown ids. The stand-in is restarted on the same port with or without its delay in between,
 * which the gateway follows without a restart of its own.
 */
import { freePort, startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { startGatewayProcess, type Served } from "../procs.ts";
import { pool, round } from "../stats.ts";
import { SPEAKER, TEXT } from "./sdk-overhead.ts";

export interface Memory {
  /** 2 s after /healthz first answered, before any request. @unit MiB */
  startMb: number;
  baselineMb: number;
  inflight200Mb: number;
  inflight200HeldOpen: number;
  inflight200DefaultCapMb: number;
  inflight200DefaultCap: { held: number; refused503: number };
  after5000Mb: number;
  after5000PeakMb: number;
  after5000Statuses: Record<string, number>;
  returnedWithin10Pct: boolean;
}

const synthBody = JSON.stringify({ text: TEXT, voice: `builtin:${SPEAKER}` });
const synth = (gw: Served, signal?: AbortSignal) =>
  fetch(`${gw.url}/synthesize`, { method: "POST", headers: { "content-type": "application/json" }, body: synthBody, ...(signal ? { signal } : {}) });

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** RSS sampled every 100 ms while `during` runs; returns the peak. */
async function peakRss(gw: Served, during: Promise<unknown>): Promise<number> {
  let peak = gw.rssMb();
  let done = false;
  void during.finally(() => (done = true));
  while (!done) {
    peak = Math.max(peak, gw.rssMb());
    await settle(100);
  }
  return Math.max(peak, gw.rssMb());
}

/** Holds `n` synthesis requests open until `hold` ms passed, then hangs up on those still open. */
async function holdOpen(gw: Served, n: number, hold: number): Promise<{ statuses: number[]; rssMb: number }> {
  const ac = new AbortController();
  const statuses: number[] = [];
  const reqs = Array.from({ length: n }, () =>
    synth(gw, ac.signal).then(
      async (r) => (await r.arrayBuffer(), statuses.push(r.status)),
      () => undefined,
    ),
  );
  await settle(hold);
  const rss = gw.rssMb();
  ac.abort();
  await Promise.all(reqs);
  return { statuses, rssMb: rss };
}

export async function memory(total: number, log: (s: string) => void): Promise<Memory> {
  const port = await freePort();
  let standin: StandinHandle = await startStandin({ variant: "official", model: "cosyvoice1", port });
  const restart = async (firstChunkDelayMs: number) => {
    await standin.stop();
    standin = await startStandin({ variant: "official", model: "cosyvoice1", port, record: standin.record, firstChunkDelayMs });
  };
  const env = { COSYVOICE_URL: standin.url, COSYVOICE_MODEL: "cosyvoice1" };
  const gw = await startGatewayProcess({ ...env, QUEUE_SIZE: "200" });
  const capped = await startGatewayProcess(env);
  try {
    await settle(2_000);
    const startMb = gw.rssMb();
    log(`  at start ${round(startMb, 1)} MB`);
    const clip = (await (await synth(gw)).json()) as { url: string };
    const statuses: Record<string, number> = {};
    const count = (s: number) => void (statuses[s] = (statuses[s] ?? 0) + 1);
    const kinds = [
      () => fetch(gw.url + clip.url),
      () => fetch(gw.url + clip.url, { headers: { range: "bytes=0-1023" } }),
      () => fetch(gw.url + "/voices"),
      () => fetch(gw.url + "/healthz"),
      () => fetch(gw.url + "/synthesize", { method: "POST", headers: { "content-type": "application/json" }, body: "{oops" }),
      () => fetch(gw.url + "/synthesize", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "", voice: "x" }) }),
      () => fetch(gw.url + "/audio/a_AAAAAAAAAAAAAAAAAAAAAA"),
      () => fetch(gw.url + "/voices/v_AAAAAAAAAAAAAAAAAAAAAA"),
    ];
    /** The mixed run: every 25th request a synthesis, the rest reads, ranges, errors and 404s. */
    const mix = (n: number) =>
      pool(16, n, async (i) => {
        const r = i % 25 === 0 ? await synth(gw) : await kinds[i % kinds.length]!();
        await r.arrayBuffer();
        count(r.status);
      });
    // Warm-up with the same mix (1,000 requests), so the baseline is a warmed-up process: JIT
    // code, lazily loaded modules and V8's grown heap are not counted as growth of the run.
    await mix(1_000);
    for (const k of Object.keys(statuses)) delete statuses[k];
    await settle(2_000);
    const baselineMb = gw.rssMb();
    log(`  baseline ${round(baselineMb, 1)} MB`);

    await restart(8_000);
    const held = await holdOpen(gw, 200, 3_000);
    const cappedRun = await holdOpen(capped, 200, 3_000);
    const refused = cappedRun.statuses.filter((s) => s === 503).length;
    log(`  200 in flight: ${round(held.rssMb, 1)} MB held open; default cap ${round(cappedRun.rssMb, 1)} MB (${refused} refused 503)`);

    await restart(0);
    const run = mix(total);
    const after5000PeakMb = await peakRss(gw, run);
    await run;
    await settle(5_000);
    const after5000Mb = gw.rssMb();
    log(`  after ${total}: ${round(after5000Mb, 1)} MB (peak ${round(after5000PeakMb, 1)} MB)`);
    return {
      startMb: round(startMb, 1),
      baselineMb: round(baselineMb, 1),
      inflight200Mb: round(held.rssMb, 1),
      inflight200HeldOpen: 200,
      inflight200DefaultCapMb: round(cappedRun.rssMb, 1),
      inflight200DefaultCap: { held: 200 - refused, refused503: refused },
      after5000Mb: round(after5000Mb, 1),
      after5000PeakMb: round(after5000PeakMb, 1),
      after5000Statuses: statuses,
      returnedWithin10Pct: after5000Mb <= baselineMb * 1.1,
    };
  } finally {
    await gw.stop();
    await capped.stop();
    await standin.stop();
  }
}
