/**
 * Issue 12's figures. `cacheHit`: a deterministic synthesis repeated against the built gateway
 * (its own process): the p50 of cache hits sequentially, and hits per second under autocannon
 * against nginx serving the clip's bytes (the audio-serving baseline). `poolScaling`: jobs per
 * second through one gateway over two stand-ins that act like a GPU (a delay before every chunk, so
 * a job waits rather than burns CPU) against the same gateway over one.
 */
import { readRecord, startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import autocannon from "autocannon";
import { ensureNginx, startGatewayProcess, startNginx } from "../procs.ts";
import { round, summarize, type Summary } from "../stats.ts";
import { SPEAKER, TEXT } from "./sdk-overhead.ts";

export interface CacheHit {
  /** Sequential hits, client latency. @unit milliseconds */
  hit: Summary;
  /** The first (a miss: the backend ran). @unit milliseconds */
  missMs: number;
  hitRps: number;
  nginxRps?: number;
  ratio?: number;
  non2xx: number;
  note?: string;
}

/** Two sentences: two model chunks, each after the per-chunk delay. */
const POOL_TEXT = "Good morning. See you.";

const body = JSON.stringify({ text: TEXT, voice: `builtin:${SPEAKER}`, seed: 42 });

export async function cacheHit(hits: number, durationS: number, connections: number, log: (s: string) => void): Promise<CacheHit> {
  const standin = await startStandin({ variant: "official", model: "cosyvoice1" });
  const gw = await startGatewayProcess({ COSYVOICE_URL: standin.url, COSYVOICE_MODEL: "cosyvoice1", CACHE_MAX_BYTES: String(256 * 1024 * 1024) });
  try {
    const post = async () => {
      const t = performance.now();
      const res = await fetch(`${gw.url}/synthesize`, { method: "POST", headers: { "content-type": "application/json" }, body });
      const json = (await res.json()) as { id: string; url: string; mimeType: string; backend?: string };
      if (res.status !== 201) throw new Error(`synthesize answered ${res.status}: ${JSON.stringify(json)}`);
      return { ms: performance.now() - t, json };
    };
    const miss = await post();
    // The backend is no longer needed: every later answer must come from the cache.
    await standin.stop();
    for (let i = 0; i < 20; i++) await post(); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < hits; i++) samples.push((await post()).ms);
    const hit = summarize(samples);
    log(`  cache hit p50 ${hit.p50} ms, p99 ${hit.p99} ms (miss ${round(miss.ms)} ms)`);
    const hitLoad = { url: `${gw.url}/synthesize`, method: "POST" as const, headers: { "content-type": "application/json" }, body, connections };
    const bin = ensureNginx(log);
    if (!bin) {
      await autocannon({ ...hitLoad, duration: 1 });
      const r = await autocannon({ ...hitLoad, duration: durationS });
      return { hit, missMs: round(miss.ms), hitRps: round(r.requests.average, 0), non2xx: r.non2xx, note: "nginx not available" };
    }
    const bytes = new Uint8Array(await (await fetch(gw.url + miss.json.url)).arrayBuffer());
    const ng = await startNginx(bin, miss.json.id, bytes, miss.json.mimeType);
    try {
      const nginxLoad = { url: `${ng.url}/audio/${miss.json.id}`, connections };
      await autocannon({ ...hitLoad, duration: 1 });
      await autocannon({ ...nginxLoad, duration: 1 });
      // Two blocks each, alternating, so the load of a shared machine drifts over both alike.
      const hits: number[] = [];
      const ngx: number[] = [];
      let non2xx = 0;
      for (let block = 0; block < 2; block++) {
        const r = await autocannon({ ...hitLoad, duration: Math.max(1, Math.round(durationS / 2)) });
        hits.push(r.requests.average);
        non2xx += r.non2xx;
        ngx.push((await autocannon({ ...nginxLoad, duration: Math.max(1, Math.round(durationS / 2)) })).requests.average);
      }
      const hitRps = round(hits.reduce((a, b) => a + b, 0) / hits.length, 0);
      const nginxRps = round(ngx.reduce((a, b) => a + b, 0) / ngx.length, 0);
      log(`  cache hits: ${hitRps} req/s (${non2xx} non-2xx); nginx: ${nginxRps} req/s`);
      return { hit, missMs: round(miss.ms), hitRps, nginxRps, ratio: hitRps / nginxRps, non2xx };
    } finally {
      await ng.stop();
    }
  } finally {
    await gw.stop();
    await standin.stop();
  }
}

export interface PoolScaling {
  chunkDelayMs: number;
  requests: number;
  concurrency: number;
  /** Jobs per second. */
  one: number;
  two: number;
  ratio: number;
  /** Jobs each stand-in ran in the two-stand-in arm (warm-up included). */
  perBackend: number[];
}

async function throughput(urls: string[], requests: number, concurrency: number): Promise<number> {
  const gw = await startGatewayProcess({ COSYVOICE_URL: urls.join(","), COSYVOICE_MODEL: "cosyvoice1", CONCURRENCY: "2", QUEUE_SIZE: String(requests), UPSTREAM_TIMEOUT_MS: "600000", CACHE_MAX_BYTES: "0" });
  try {
    // Each job has its own seed, so nothing is shared or cached.
    let seed = 1_000;
    const one = async () => {
      const res = await fetch(`${gw.url}/synthesize`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: POOL_TEXT, voice: `builtin:${SPEAKER}`, seed: seed++ }) });
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`synthesize answered ${res.status}`);
    };
    await Promise.all(urls.map(() => one())); // warm-up: connect every backend
    let left = requests;
    const t = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left-- > 0) await one();
      }),
    );
    return requests / ((performance.now() - t) / 1000);
  } finally {
    await gw.stop();
  }
}

export async function poolScaling(requests: number, chunkDelayMs: number, log: (s: string) => void): Promise<PoolScaling> {
  const standins: StandinHandle[] = [];
  try {
    // Every chunk, the first included, waits: a GPU box is busy for the whole job, not the CPU here.
    for (let i = 0; i < 2; i++) standins.push(await startStandin({ variant: "official", model: "cosyvoice1", firstChunkDelayMs: chunkDelayMs, chunkDelayMs }));
    const [a, b] = standins as [StandinHandle, StandinHandle];
    // Enough in flight to keep every slot of two boxes busy (2 each).
    const concurrency = 8;
    const one = await throughput([a.url], requests, concurrency);
    log(`  one stand-in: ${round(one)} jobs/s`);
    const jobs = (h: StandinHandle) => readRecord(h.record).filter((e) => e.event === "call" && e["fn"] === "generate_audio").length;
    const before = [jobs(a), jobs(b)];
    const two = await throughput([a.url, b.url], requests, concurrency);
    const perBackend = [jobs(a) - before[0]!, jobs(b) - before[1]!];
    log(`  two stand-ins: ${round(two)} jobs/s (jobs per stand-in ${perBackend.join(" + ")})`);
    return { chunkDelayMs, requests, concurrency, one: round(one, 3), two: round(two, 3), ratio: round(two / one, 3), perBackend };
  } finally {
    await Promise.all(standins.map((s) => s.stop()));
  }
}
