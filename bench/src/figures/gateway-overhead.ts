/**
 * Figure 2: `POST /synthesize` through the gateway versus the same SDK call made directly, at
 * concurrency 1, 8 and 32, against one stand-in (official UI, CosyVoice 1, pretrained voice).
 *
 * Same load for both paths: the stand-in's UI runs 2 jobs and queues 4, then refuses; so the
 * gateway runs with its default 2 running slots and a wait list long enough for every client
 * (no 503), and the direct path goes through a bench-side semaphore of 2 (what a careful direct
 * caller must do). Both therefore see 2 jobs on the UI and the rest waiting in front of it.
 *
 * Two views: unpaired (latency percentiles of each path, difference) and paired (for each
 * gateway request, its latency minus the SDK call inside the gateway minus its wait for a job
 * slot: the cost of the gateway itself, free of the backend's large job-to-job variance).
 */
import { startStandin } from "@cosyvoice3/testkit";
import { CosyVoice } from "cosyvoice3-sdk";
import { startInProcessGateway } from "../inproc.ts";
import { pool, round, summarize, timed, type Summary } from "../stats.ts";
import { SPEAKER, TEXT } from "./sdk-overhead.ts";

export interface GatewayAtConcurrency {
  concurrency: number;
  requestsPerPath: number;
  gateway: Summary;
  direct: Summary;
  /** p50(gateway) - p50(direct), and the same at p99. @unit milliseconds */
  unpairedAddedP50: number;
  unpairedAddedP99: number;
  /** The gateway's own time per request (latency - SDK call - slot wait). @unit milliseconds */
  paired: Summary;
  /** Where the gateway's own time goes: the audio store's atomic write, and a bare GET /healthz round trip. */
  ownBreakdown: { audioStorePut: Summary; healthzRoundTrip: Summary };
  /** Failed calls by status (gateway) or SDK error code (direct), not in the timings. */
  errors: { gateway: Record<string, number>; direct: Record<string, number> };
}

/** A counting semaphore, for the direct path's 2 running jobs. */
function semaphore(n: number) {
  let free = n;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (free > 0) free--;
    else await new Promise<void>((r) => waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

export async function gatewayOverhead(plan: { concurrency: number; requests: number }[], log: (s: string) => void): Promise<GatewayAtConcurrency[]> {
  const standin = await startStandin({ variant: "official", model: "cosyvoice1" });
  const gw = await startInProcessGateway(standin.url, "cosyvoice1", { concurrency: 2, queueSize: 64 });
  const cv = await CosyVoice.connect(standin.url, { model: "cosyvoice1", maxRetries: 0 });
  const limit = semaphore(2);
  let seq = 0;
  // Failed calls (on either path) are counted, not timed.
  const errors = { gateway: {} as Record<string, number>, direct: {} as Record<string, number> };
  const body = JSON.stringify({ text: TEXT, voice: `builtin:${SPEAKER}`, seed: 1 });
  const viaGateway = async () => {
    const id = `bench-${++seq}`;
    const t = performance.now();
    const res = await fetch(`${gw.url}/synthesize`, { method: "POST", headers: { "content-type": "application/json", "x-request-id": id }, body });
    await res.arrayBuffer();
    const ms = performance.now() - t;
    if (res.status !== 201) {
      errors.gateway[res.status] = (errors.gateway[res.status] ?? 0) + 1;
      return undefined;
    }
    const trace = gw.trace(id)!;
    return { ms, own: ms - trace.sdkMs - trace.slotWaitMs, store: trace.storeMs };
  };
  const direct = async () => {
    const t = performance.now();
    try {
      await limit(() => cv.synthesize({ mode: "pretrained", text: TEXT, voice: SPEAKER, seed: 1 }));
    } catch (err) {
      const code = (err as { code?: string }).code ?? "unknown";
      errors.direct[code] = (errors.direct[code] ?? 0) + 1;
      return undefined;
    }
    return performance.now() - t;
  };
  try {
    for (let i = 0; i < 3; i++) {
      await viaGateway();
      await direct();
    }
    const out: GatewayAtConcurrency[] = [];
    for (const { concurrency, requests } of plan) {
      const g: { ms: number; own: number; store: number }[] = [];
      const d: number[] = [];
      errors.gateway = {};
      errors.direct = {};
      // Two blocks per path, alternating, so drift over the run hits both.
      const half = Math.ceil(requests / 2);
      for (let block = 0; block < 2; block++) {
        for (const x of await pool(concurrency, half, viaGateway)) if (x) g.push(x);
        for (const x of await pool(concurrency, half, direct)) if (x !== undefined) d.push(x);
      }
      const gs = summarize(g.map((x) => x.ms));
      const ds = summarize(d);
      const paired = summarize(g.map((x) => x.own));
      const store = summarize(g.map((x) => x.store));
      // The floor of any request on this path: loopback HTTP, Express, logging, no work.
      const floor = summarize(await pool(concurrency, 50, () => timed(() => fetch(`${gw.url}/healthz`).then((r) => r.arrayBuffer()))));
      out.push({
        concurrency,
        requestsPerPath: g.length,
        gateway: gs,
        direct: ds,
        unpairedAddedP50: round(gs.p50 - ds.p50),
        unpairedAddedP99: round(gs.p99 - ds.p99),
        paired,
        ownBreakdown: { audioStorePut: store, healthzRoundTrip: floor },
        errors: { gateway: { ...errors.gateway }, direct: { ...errors.direct } },
      });
      log(`  c=${concurrency}: gateway p50 ${gs.p50} / direct p50 ${ds.p50} ms; gateway's own time p50 ${paired.p50} p99 ${paired.p99} ms (store put p50 ${store.p50}, healthz round trip p50 ${floor.p50})`);
    }
    return out;
  } finally {
    await cv.close();
    await gw.close();
    await standin.stop();
  }
}
