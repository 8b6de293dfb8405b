/**
 * Issue 19's figures. `cacheHitAudio`: a repeated `POST /v1/audio/speech` answered from the
 * cache (the built gateway, its own process; the stand-in stopped after the first answer, so
 * every later answer is a hit) against nginx serving the very bytes of that answer from a file.
 * `gatewaysTwoVsOne`: the same cache hits through the scale-out profile's nginx in front of two
 * gateway processes on one Redis, against the same nginx in front of one of them.
 *
 * Both are throughput figures on a 2-core machine where autocannon (this process), nginx and the
 * gateways share the cores: each round records the CPU time of every process, so the report
 * gives the load generator's share of the machine.
 */
import { readFileSync } from "node:fs";
import { startRedis, startStandin, startLoadBalancer } from "@cosyvoice3/testkit";
import autocannon, { type Options as LoadOptions } from "autocannon";
import { cpus } from "node:os";
import { ensureNginx, startGatewayProcess, startNginx, type Served } from "../procs.ts";
import { round, summarize } from "../stats.ts";
import { SPEAKER, TEXT } from "./sdk-overhead.ts";

/** CPU seconds (user + system) a process used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** What one load took: requests per second, and each process's share of the machine's cores. */
export interface Round {
  rps: number;
  non2xx: number;
  /** CPU used over wall time × cores, per process name (`loadgen` is autocannon, this process). */
  cpuShare: Record<string, number>;
}

async function measured(opts: LoadOptions, pids: Record<string, number>): Promise<Round> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const self = process.cpuUsage();
  const t = performance.now();
  const r = await autocannon(opts);
  const wall = (performance.now() - t) / 1000;
  const cores = cpus().length;
  const used = process.cpuUsage(self);
  const cpuShare: Record<string, number> = { loadgen: round((used.user + used.system) / 1e6 / wall / cores, 3) };
  for (const [k, pid] of Object.entries(pids)) cpuShare[k] = round((cpuSeconds(pid) - (before[k] ?? 0)) / wall / cores, 3);
  return { rps: r.requests.average, non2xx: r.non2xx + r.errors, cpuShare };
}

/** Median of per-round values, and of each process's CPU share. */
function medianRounds(rounds: Round[]): Round {
  const keys = Object.keys(rounds[0]?.cpuShare ?? {});
  return {
    rps: round(summarize(rounds.map((r) => r.rps)).p50, 0),
    non2xx: rounds.reduce((n, r) => n + r.non2xx, 0),
    cpuShare: Object.fromEntries(keys.map((k) => [k, round(summarize(rounds.map((r) => r.cpuShare[k] ?? 0)).p50, 3)])),
  };
}

/**
 * `a` and `b` in alternating rounds of `roundS` seconds (which goes first alternates too), so load
 * from elsewhere on a shared machine falls on both; the ratio is the median of per-round ratios.
 */
async function alternate(a: () => Promise<Round>, b: () => Promise<Round>, rounds: number): Promise<{ a: Round; b: Round; ratio: number }> {
  const ra: Round[] = [];
  const rb: Round[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    let x: Round;
    let y: Round;
    if (i % 2 === 0) {
      x = await a();
      y = await b();
    } else {
      y = await b();
      x = await a();
    }
    ra.push(x);
    rb.push(y);
    ratios.push(x.rps / Math.max(1, y.rps));
  }
  return { a: medianRounds(ra), b: medianRounds(rb), ratio: round(summarize(ratios).p50, 3) };
}

/** The request both figures repeat: OpenAI's default format (mp3), a pretrained voice. */
const speechBody = JSON.stringify({ model: "tts-1", input: TEXT, voice: `builtin:${SPEAKER}`, response_format: "mp3" });
const speech = (url: string) => ({ url: `${url}/v1/audio/speech`, method: "POST" as const, headers: { "content-type": "application/json" }, body: speechBody });

export interface CacheHitAudio {
  format: "mp3";
  bytes: number;
  /** Sequential hits, client latency. @unit milliseconds */
  hitP50Ms: number;
  missMs: number;
  connections: number;
  gateway: Round;
  nginx?: Round;
  ratio?: number;
  note?: string;
}

/**
 * @example const c = await cacheHitAudio(8, 32, console.error);
 */
export async function cacheHitAudio(rounds: number, connections: number, log: (s: string) => void): Promise<CacheHitAudio> {
  const standin = await startStandin({ variant: "official", model: "cosyvoice1" });
  const gw = await startGatewayProcess({ COSYVOICE_URL: standin.url, COSYVOICE_MODEL: "cosyvoice1", CACHE_MAX_BYTES: String(256 * 1024 * 1024) });
  let ng: Served | undefined;
  try {
    const post = async () => {
      const t = performance.now();
      const res = await fetch(`${gw.url}/v1/audio/speech`, { method: "POST", headers: { "content-type": "application/json" }, body: speechBody });
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (res.status !== 200) throw new Error(`/v1/audio/speech answered ${res.status}: ${Buffer.from(bytes).toString()}`);
      return { ms: performance.now() - t, bytes };
    };
    const miss = await post();
    // Every later answer must come from the cache.
    await standin.stop();
    const samples: number[] = [];
    for (let i = 0; i < 200; i++) samples.push((await post()).ms);
    const hitP50Ms = summarize(samples.slice(20)).p50;
    log(`  /v1/audio/speech cache hit p50 ${hitP50Ms} ms (miss ${round(miss.ms)} ms), ${miss.bytes.length} bytes of mp3`);
    const ours = () => measured({ ...speech(gw.url), connections, duration: 1 }, { gateway: gw.pid });
    const bin = ensureNginx(log);
    if (!bin) {
      await ours();
      const g = medianRounds([await ours(), await ours(), await ours()]);
      return { format: "mp3", bytes: miss.bytes.length, hitP50Ms, missMs: round(miss.ms), connections, gateway: g, note: "nginx not available" };
    }
    ng = await startNginx(bin, "speech.mp3", miss.bytes, "audio/mpeg");
    const theirs = () => measured({ url: `${ng!.url}/audio/speech.mp3`, connections, duration: 1 }, { nginx: ng!.pid });
    await ours();
    await theirs();
    const { a, b, ratio } = await alternate(ours, theirs, rounds);
    log(`  cache hits ${a.rps} req/s (${a.non2xx} non-2xx; autocannon ${a.cpuShare["loadgen"]} of the machine), nginx ${b.rps} req/s (autocannon ${b.cpuShare["loadgen"]}): ratio ${ratio}`);
    return { format: "mp3", bytes: miss.bytes.length, hitP50Ms, missMs: round(miss.ms), connections, gateway: a, nginx: b, ratio };
  } finally {
    await ng?.stop();
    await gw.stop();
    await standin.stop();
  }
}

export interface GatewaysTwoVsOne {
  connections: number;
  one: Round;
  two: Round;
  ratio: number;
  note: string;
}

/**
 * @example const s = await gatewaysTwoVsOne(8, 64, console.error);
 */
export async function gatewaysTwoVsOne(rounds: number, connections: number, log: (s: string) => void): Promise<GatewaysTwoVsOne> {
  const redis = await startRedis();
  const standin = await startStandin({ variant: "official", model: "cosyvoice1" });
  const env = { COSYVOICE_URL: standin.url, COSYVOICE_MODEL: "cosyvoice1", CACHE_MAX_BYTES: String(256 * 1024 * 1024), STORE: "redis", REDIS_URL: redis.url };
  const gws = [await startGatewayProcess(env), await startGatewayProcess(env)] as [Served, Served];
  const lbOne = await startLoadBalancer([gws[0].url]);
  const lbTwo = await startLoadBalancer(gws.map((g) => g.url));
  try {
    // One miss fills the shared cache; each instance then answers from Redis, then from its memory.
    const { url: firstUrl, ...firstInit } = speech(lbOne.url);
    const first = await fetch(firstUrl, firstInit);
    await first.arrayBuffer();
    if (first.status !== 200) throw new Error(`/v1/audio/speech answered ${first.status}`);
    await standin.stop();
    const pids = { gateway1: gws[0].pid, gateway2: gws[1].pid, redis: redis.pid };
    const one = () => measured({ ...speech(lbOne.url), connections, duration: 1 }, { ...pids, nginx: lbOne.pid });
    const two = () => measured({ ...speech(lbTwo.url), connections, duration: 1 }, { ...pids, nginx: lbTwo.pid });
    await one();
    await two();
    const { a, b, ratio } = await alternate(two, one, rounds);
    const note = `2 cores: autocannon takes ${a.cpuShare["loadgen"]} of the machine with two gateways (${b.cpuShare["loadgen"]} with one), nginx ${a.cpuShare["nginx"]}; the gateways together ${round((a.cpuShare["gateway1"] ?? 0) + (a.cpuShare["gateway2"] ?? 0), 3)} (one alone ${b.cpuShare["gateway1"]})`;
    log(`  behind nginx: two gateways ${a.rps} req/s, one ${b.rps} req/s: ratio ${ratio}; ${note}`);
    return { connections, one: b, two: a, ratio, note };
  } finally {
    await lbOne.stop();
    await lbTwo.stop();
    await Promise.all(gws.map((g) => g.stop()));
    await standin.stop();
    await redis.stop();
  }
}
