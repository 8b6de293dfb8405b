/**
 * `pnpm bench`: the five figures of the gateway issue, each against its baseline measured in the
 * same run, on loopback. Writes `bench/results/latest.json` and prints a markdown table.
 * Timed figures are a report, never a test. `BENCH_QUICK=1` runs fewer repetitions.
 * `BENCH_ONLY=openai_first_byte_added_ms` (comma-separated headline names) runs just those
 * figures and prints their detail, leaving latest.json alone.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { audioServing } from "./figures/audio-serving.ts";
import { firstByte } from "./figures/first-byte.ts";
import { gatewayOverhead } from "./figures/gateway-overhead.ts";
import { kindFigures } from "./figures/kinds.ts";
import { memory } from "./figures/memory.ts";
import { openaiFirstByte } from "./figures/openai-first-byte.ts";
import { passthroughFigures } from "./figures/passthrough.ts";
import { cacheHit, poolScaling } from "./figures/ops.ts";
import { jobsFigure } from "./figures/jobs.ts";
import { cacheHitAudio, gatewaysTwoVsOne } from "./figures/scale.ts";
import { sdkOverhead } from "./figures/sdk-overhead.ts";
import { ROOT } from "./procs.ts";
import { round } from "./stats.ts";
import { table } from "./report.ts";

const quick = process.env["BENCH_QUICK"] === "1";
const log = (s: string) => process.stderr.write(`${s}\n`);
const started = Date.now();
const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
  log(`[${Math.round((Date.now() - started) / 1000)} s] ${name}`);
  return fn();
};

// BENCH_ONLY=ops runs issue 12's figures alone and writes bench/results/ops.json (latest.json is left alone).
if (process.env["BENCH_ONLY"] === "ops") {
  const cache = await step("6. cache hits vs nginx", () => cacheHit(quick ? 100 : 500, quick ? 3 : 8, 32, log));
  const pool = await step("7. pool of two stand-ins vs one", () => poolScaling(quick ? 8 : 16, 2000, log));
  const ops = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    quick,
    cache_hit_p50_ms: cache.hit.p50,
    cache_hit_rps_vs_nginx_ratio: cache.ratio === undefined ? null : round(cache.ratio, 3),
    pool_scaling_ratio_2: pool.ratio,
    detail: { cache, pool },
  };
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(join(ROOT, "bench/results/ops.json"), `${JSON.stringify(ops, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify({ cache_hit_p50_ms: ops.cache_hit_p50_ms, cache_hit_rps_vs_nginx_ratio: ops.cache_hit_rps_vs_nginx_ratio, pool_scaling_ratio_2: ops.pool_scaling_ratio_2 }, null, 2)}\n`);
  process.exit(0);
}
const only = process.env["BENCH_ONLY"];
if (only !== undefined) {
  const single: Record<string, () => Promise<unknown>> = {
    openai_first_byte_added_ms: () => openaiFirstByte(quick ? 4 : 20, 300, log),
    first_byte_added_ms: () => firstByte(quick ? 4 : 20, 300, log),
    // Issue 19's figures, one at a time (each with its baseline of the same run).
    gateway_added_vs_roundtrip_ratio: async () => {
      const [c1] = await gatewayOverhead([{ concurrency: 1, requests: quick ? 10 : 30 }], log);
      return { ratio: round(c1!.paired.p50 / c1!.ownBreakdown.healthzRoundTrip.p50, 3), ownP50: c1!.paired.p50, healthzRoundTripP50: c1!.ownBreakdown.healthzRoundTrip.p50, detail: c1 };
    },
    rss_mb_baseline: () => memory(quick ? 1_000 : 5_000, log),
    passthrough_added_vs_nginx_ratio: async () => (await passthroughFigures(quick ? 100 : 400, 3, 32, log)).config,
    cache_hit_audio_rps_vs_nginx_ratio: () => cacheHitAudio(quick ? 4 : 8, 32, log),
    gateways_2_vs_1_cache_hit_rps: () => gatewaysTwoVsOne(quick ? 4 : 8, 64, log),
    kinds: () => kindFigures(quick ? 4 : 20, 300, log),
    job_wall_vs_segments_ratio: () => jobsFigure(quick ? 2_000 : 10_000, 150, log),
  };
  for (const name of only.split(",").map((n) => n.trim())) {
    const run = single[name];
    if (!run) throw new Error(`BENCH_ONLY: unknown figure ${name}; known: ${Object.keys(single).join(", ")}`);
    process.stdout.write(`${JSON.stringify({ [name]: await step(name, run) }, null, 2)}\n`);
  }
  process.exit(0);
}

const sdk = await step("1. SDK vs bare @gradio/client", () => sdkOverhead(quick ? 6 : 24, log));
const gateway = await step("2. gateway vs direct SDK at concurrency 1, 8, 32", () =>
  gatewayOverhead(
    quick
      ? [{ concurrency: 1, requests: 6 }, { concurrency: 8, requests: 8 }, { concurrency: 32, requests: 32 }]
      : [{ concurrency: 1, requests: 30 }, { concurrency: 8, requests: 32 }, { concurrency: 32, requests: 64 }],
    log,
  ),
);
const audio = await step("3. GET /audio/:id vs nginx", () => audioServing(quick ? 3 : 8, 32, log));
const fb = await step("4. first byte: gateway stream vs SDK first chunk", () => firstByte(quick ? 4 : 20, 300, log));
const mem = await step("5. gateway RSS", () => memory(quick ? 1_000 : 5_000, log));
const pt = await step("6. passthrough: /cosyvoice/config vs direct, a UI asset vs nginx proxy_pass", () => passthroughFigures(quick ? 100 : 400, quick ? 4 : 12, 32, log));
const cache = await step("7. cache hits vs nginx", () => cacheHit(quick ? 100 : 500, quick ? 3 : 8, 32, log));
const pool = await step("8. pool of two stand-ins vs one", () => poolScaling(quick ? 8 : 16, 2000, log));
const ofb = await step("9. first MP3 byte through /v1/audio/speech vs the SDK's first chunk", () => openaiFirstByte(quick ? 4 : 20, 300, log));
const audioHit = await step("10. /v1/audio/speech cache hits vs nginx serving the same bytes", () => cacheHitAudio(quick ? 4 : 8, 32, log));
const twoGateways = await step("11. cache hits through nginx: two gateways on one Redis vs one", () => gatewaysTwoVsOne(quick ? 4 : 8, 64, log));
const kinds = await step("12. each kind of box: first byte vs the box's first chunk; FastAPI whole synthesis vs direct", () => kindFigures(quick ? 4 : 20, 300, log));
const fastapiFb = kinds.firstByte.find((k) => k.kind === "cosyvoice-fastapi");
const jobs = await step("13. a 10,000-character job: wall time over its segments' synthesis times, one box and two", () => jobsFigure(quick ? 2_000 : 10_000, 150, log));

const c1 = gateway.find((g) => g.concurrency === 1)!;
const latest = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
  quick,
  // The headline figures the issue asks for.
  sdk_overhead_ratio: round(sdk.ratio, 3),
  gateway_added_ms_p50: c1.paired.p50,
  gateway_added_ms_p99: c1.paired.p99,
  audio_rps_vs_nginx_ratio: audio.ratio === undefined ? null : round(audio.ratio, 3),
  first_byte_added_ms: fb.paired.p50,
  openai_first_byte_added_ms: ofb.mp3.p50,
  rss_mb_200_inflight: mem.inflight200Mb,
  rss_mb_after_5000: mem.after5000Mb,
  rss_mb_baseline: mem.baselineMb,
  passthrough_added_ms_p50: pt.config.addedP50Ms,
  passthrough_rps_vs_nginx_ratio: pt.asset.ratio ?? null,
  cache_hit_p50_ms: cache.hit.p50,
  cache_hit_rps_vs_nginx_ratio: cache.ratio === undefined ? null : round(cache.ratio, 3),
  pool_scaling_ratio_2: pool.ratio,
  // Issue 19: the gateway's own cost against baselines of the same run.
  gateway_added_vs_roundtrip_ratio: round(c1.paired.p50 / c1.ownBreakdown.healthzRoundTrip.p50, 3),
  passthrough_added_vs_nginx_ratio: pt.config.addedVsNginxRatio ?? null,
  cache_hit_audio_rps_vs_nginx_ratio: audioHit.ratio ?? null,
  gateways_2_vs_1_cache_hit_rps: twoGateways.ratio,
  fastapi_first_byte_added_ms: fastapiFb?.paired.p50 ?? null,
  grpc_first_byte_added_ms: kinds.firstByte.find((k) => k.kind === "cosyvoice-grpc")?.paired.p50 ?? null,
  openai_kind_first_byte_added_ms: kinds.firstByte.find((k) => k.kind === "openai")?.paired.p50 ?? null,
  fastapi_synthesis_vs_direct_ratio: kinds.fastapiSynthesisRatio,
  job_wall_vs_segments_ratio_1_box: jobs.one.ratio,
  job_wall_vs_segments_ratio_2_boxes: jobs.two.ratio,
  // Baselines and the detail behind each.
  baselines: {
    sdk_bare_p50_ms: sdk.bare.p50,
    sdk_bare_shared_session_p50_ms: sdk.bareSharedSession.p50,
    sdk_p50_ms: sdk.sdk.p50,
    direct_sdk_p50_ms_c1: c1.direct.p50,
    gateway_p50_ms_c1: c1.gateway.p50,
    nginx_rps: audio.nginx?.rps ?? null,
    gateway_audio_rps: audio.gateway.rps,
    sdk_first_chunk_p50_ms: fb.sdk.p50,
    gateway_first_byte_p50_ms: fb.gateway.p50,
    rest_aac_first_byte_added_p50_ms: ofb.restAac.p50,
    rss_mb_baseline: mem.baselineMb,
    direct_config_p50_ms: pt.config.direct.p50,
    passthrough_config_p50_ms: pt.config.viaGateway.p50,
    passthrough_asset_rps: pt.asset.gatewayRps,
    nginx_proxy_asset_rps: pt.asset.nginxRps ?? null,
    cache_miss_ms: cache.missMs,
    cache_hit_rps: cache.hitRps,
    cache_nginx_rps: cache.nginxRps ?? null,
    pool_one_jobs_per_s: pool.one,
    pool_two_jobs_per_s: pool.two,
    job_segments_sum_ms_1_box: jobs.one.segmentsSumMs,
    job_segments_sum_ms_2_boxes: jobs.two.segmentsSumMs,
    healthz_round_trip_p50_ms_c1: c1.ownBreakdown.healthzRoundTrip.p50,
    rss_mb_start: mem.startMb,
    nginx_proxy_config_p50_ms: pt.config.viaNginx?.p50 ?? null,
    nginx_proxy_added_p50_ms: pt.config.nginxAddedP50Ms ?? null,
    cache_hit_audio_rps: audioHit.gateway.rps,
    cache_hit_audio_nginx_rps: audioHit.nginx?.rps ?? null,
    gateways_1_cache_hit_rps: twoGateways.one.rps,
    gateways_2_cache_hit_rps: twoGateways.two.rps,
    fastapi_first_chunk_direct_p50_ms: fastapiFb?.direct.p50 ?? null,
    fastapi_direct_synthesis_p50_ms: kinds.fastapiDirect.p50,
    fastapi_gateway_synthesis_p50_ms: kinds.fastapiViaGateway.p50,
  },
  detail: { sdk, gateway, audio, firstByte: fb, memory: mem, passthrough: pt, cache, pool, openaiFirstByte: ofb, kinds, jobs, cacheHitAudio: audioHit, gatewaysTwoVsOne: twoGateways },
  methods: {
    sdk_overhead_ratio:
      "p50(SDK synthesize) / p50(bare @gradio/client predict + playlist-file with a fresh session per call); the shared-session arm is faster because gradio 5.4 answers many of its calls with an earlier job's cached audio (detail.sdk.bareSharedSession.staleAudioRuns)",
    gateway_added_ms:
      "paired: per gateway request, client latency minus the SDK call inside the gateway minus the wait for a job slot (in-process gateway, instrumented from outside); unpaired differences of percentiles are in detail.gateway",
    first_byte_added_ms: "paired p50: client's first body byte minus the moment the SDK inside the gateway yielded the first chunk",
    openai_first_byte_added_ms:
      "paired p50: client's first MP3 body byte from POST /v1/audio/speech minus the moment the SDK inside the gateway yielded the first AAC chunk (ffmpeg decode + MP3 encode); baseline the same pairing for REST's AAC stream, interleaved",
    rss_mb_200_inflight: "200 synthesis requests held open (2 running on the UI, 198 waiting for a gateway slot; QUEUE_SIZE=200)",
    rss_mb_after_5000: "idle 5 s after 5,000 mixed requests (every 25th a synthesis)",
    passthrough_added_ms_p50:
      "p50(GET /cosyvoice/config through the gateway's passthrough) - p50(GET /config on the UI), requests alternating one at a time over keep-alive connections (gateway process, built code)",
    passthrough_rps_vs_nginx_ratio:
      "a static asset of the UI through the gateway vs through nginx proxy_pass (one worker, keep-alive upstream), same stand-in, 32 connections, median of per-round ratios over alternating 1 s rounds",
    cache_hit_p50_ms: "client latency of POST /synthesize with a seed, repeated sequentially after the first (the stand-in stopped, so every answer is a cache hit)",
    cache_hit_rps_vs_nginx_ratio: "autocannon, 32 connections: cache-hit POST /synthesize per second over nginx serving the clip's bytes (GET)",
    gateway_added_vs_roundtrip_ratio: "gateway_added_ms_p50 (c=1, paired) / p50 of a bare GET /healthz round trip to the same in-process gateway, measured right after it",
    rss_mb_baseline_start: "baselines.rss_mb_start: RSS of the built gateway 2 s after /healthz first answered, before any request",
    passthrough_added_vs_nginx_ratio: "passthrough_added_ms_p50 / (p50 of GET /cosyvoice/config through nginx proxy_pass - p50 direct), the three paths rotating one request at a time",
    cache_hit_audio_rps_vs_nginx_ratio:
      "autocannon, 32 connections, alternating 1 s rounds: a repeated POST /v1/audio/speech (mp3, the stand-in stopped: every answer a cache hit) per second over nginx (1 worker, sendfile) serving the same mp3 bytes from a file; the median of per-round ratios; detail gives each process's CPU share (2 cores: autocannon takes a large part)",
    gateways_2_vs_1_cache_hit_rps:
      "cache-hit POST /v1/audio/speech per second through deploy/scale-out/nginx.conf in front of two gateway processes on one Redis, over the same nginx in front of one of them; 64 connections, alternating 1 s rounds; on 2 cores autocannon and nginx share the machine with the gateways (detail.gatewaysTwoVsOne.note)",
    fastapi_first_byte_added_ms:
      "paired p50: client's first PCM byte of POST /synthesize (stream, format pcm) minus the moment the FastAPI driver inside the gateway yielded the box's first chunk; baseline: the stand-in's first chunk called directly (detail.kinds lists the Gradio kind the same way)",
    grpc_first_byte_added_ms: "the same pairing for the gRPC driver (grpc://, CosyVoice 1, a built-in speaker, format pcm)",
    openai_kind_first_byte_added_ms: "the same pairing for the openai driver over the vLLM-Omni-shaped stand-in (CosyVoice3, a saved voice cloned, format pcm)",
    fastapi_synthesis_vs_direct_ratio: "p50(POST /synthesize through the in-process gateway, 201 with the clip stored) / p50(POST /inference_sft on the FastAPI stand-in read to its end), interleaved",
    job_wall_vs_segments_ratio:
      "a 10,000-character job (POST /jobs, MP3): client wall time to succeeded over the sum of its segments' synthesis calls (each as long as a POST /synthesize of that text; the stand-ins' own call-to-done sums are in detail.jobs); one stand-in, then two (CONCURRENCY=2: one background slot each), 150 ms before every chunk",
    pool_scaling_ratio_2: "jobs per second (8 in flight, CONCURRENCY=2, a distinct seed each) through one gateway over two stand-ins with a 2,000 ms delay before each chunk, over the same with one stand-in",
  },
  durationS: Math.round((Date.now() - started) / 1000),
};

const dir = join(ROOT, "bench/results");
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, "latest.json"), `${JSON.stringify(latest, null, 2)}\n`);
process.stdout.write(`${table(latest)}\n`);
log(`written to bench/results/latest.json in ${latest.durationS} s`);
