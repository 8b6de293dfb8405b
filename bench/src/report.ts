/** The markdown table of a bench run. */

interface Latest {
  sdk_overhead_ratio: number;
  gateway_added_ms_p50: number;
  gateway_added_ms_p99: number;
  audio_rps_vs_nginx_ratio: number | null;
  first_byte_added_ms: number;
  openai_first_byte_added_ms: number;
  rss_mb_200_inflight: number;
  rss_mb_after_5000: number;
  rss_mb_baseline: number;
  passthrough_added_ms_p50?: number;
  passthrough_rps_vs_nginx_ratio?: number | null;
  cache_hit_p50_ms: number;
  cache_hit_rps_vs_nginx_ratio: number | null;
  pool_scaling_ratio_2: number;
  job_wall_vs_segments_ratio_1_box?: number;
  job_wall_vs_segments_ratio_2_boxes?: number;
  gateway_added_vs_roundtrip_ratio?: number;
  passthrough_added_vs_nginx_ratio?: number | null;
  cache_hit_audio_rps_vs_nginx_ratio?: number | null;
  gateways_2_vs_1_cache_hit_rps?: number;
  baselines: Record<string, number | null>;
  detail: {
    gateway: { concurrency: number; gateway: { p50: number; p99: number }; direct: { p50: number; p99: number }; paired: { p50: number; p99: number }; unpairedAddedP50: number; unpairedAddedP99: number }[];
    memory: { inflight200DefaultCapMb: number; inflight200DefaultCap: { held: number; refused503: number }; after5000PeakMb: number };
  };
}

const ok = (met: boolean) => (met ? "yes" : "**no**");

/**
 * @example process.stdout.write(table(latest));
 */
export function table(r: Latest): string {
  const b = r.baselines;
  const rows: string[][] = [
    ["SDK synthesize / bare @gradio/client (p50 ratio)", String(r.sdk_overhead_ratio), `bare client, fresh session per call ${b["sdk_bare_p50_ms"]} ms, SDK ${b["sdk_p50_ms"]} ms`, "<= 1.10", ok(r.sdk_overhead_ratio <= 1.1)],
    ["Gateway added, c=1, p50 (ms)", String(r.gateway_added_ms_p50), `direct SDK p50 ${b["direct_sdk_p50_ms_c1"]} ms, via gateway ${b["gateway_p50_ms_c1"]} ms`, "<= 2", ok(r.gateway_added_ms_p50 <= 2)],
    ["Gateway added, c=1, p99 (ms)", String(r.gateway_added_ms_p99), "", "<= 10", ok(r.gateway_added_ms_p99 <= 10)],
  ];
  for (const g of r.detail.gateway.filter((x) => x.concurrency !== 1)) {
    rows.push([
      `Gateway added, c=${g.concurrency}, p50 / p99 (ms)`,
      `${g.paired.p50} / ${g.paired.p99}`,
      `latency p50 gateway ${g.gateway.p50} vs direct ${g.direct.p50} ms (diff ${g.unpairedAddedP50}); p99 diff ${g.unpairedAddedP99}`,
      "<= 2 / <= 10",
      ok(g.paired.p50 <= 2 && g.paired.p99 <= 10),
    ]);
  }
  rows.push(
    ["GET /audio/:id rps / nginx rps", r.audio_rps_vs_nginx_ratio === null ? "n/a" : String(r.audio_rps_vs_nginx_ratio), `gateway ${b["gateway_audio_rps"]} req/s, nginx ${b["nginx_rps"] ?? "n/a"} req/s`, ">= 0.5", r.audio_rps_vs_nginx_ratio === null ? "n/a" : ok(r.audio_rps_vs_nginx_ratio >= 0.5)],
    ["First audio byte added by the gateway, p50 (ms)", String(r.first_byte_added_ms), `SDK first chunk p50 ${b["sdk_first_chunk_p50_ms"]} ms, gateway first byte p50 ${b["gateway_first_byte_p50_ms"]} ms`, "<= 5", ok(r.first_byte_added_ms <= 5)],
    ["First MP3 byte through /v1/audio/speech after the SDK's first chunk, p50 (ms)", String(r.openai_first_byte_added_ms), `REST AAC stream (no encoder) ${b["rest_aac_first_byte_added_p50_ms"]} ms in the same run`, "<= 15", ok(r.openai_first_byte_added_ms <= 15)],
    ["RSS, 200 synthesis requests in flight (MB)", String(r.rss_mb_200_inflight), `baseline ${r.rss_mb_baseline} MB; default cap: ${r.detail.memory.inflight200DefaultCapMb} MB (${r.detail.memory.inflight200DefaultCap.refused503} refused 503)`, "<= 150", ok(r.rss_mb_200_inflight <= 150)],
    ["RSS after 5,000 requests, idle (MB)", String(r.rss_mb_after_5000), `baseline ${r.rss_mb_baseline} MB, peak ${r.detail.memory.after5000PeakMb} MB`, "<= baseline + 10 %", ok(r.rss_mb_after_5000 <= r.rss_mb_baseline * 1.1)],
  );
  if (r.passthrough_added_ms_p50 !== undefined) {
    const ratio = r.passthrough_rps_vs_nginx_ratio ?? null;
    rows.push(
      ["Passthrough added, GET /cosyvoice/config, p50 (ms)", String(r.passthrough_added_ms_p50), `direct p50 ${b["direct_config_p50_ms"]} ms, via gateway ${b["passthrough_config_p50_ms"]} ms`, "<= 1", ok(r.passthrough_added_ms_p50 <= 1)],
      ["UI asset rps via passthrough / via nginx proxy_pass", ratio === null ? "n/a" : String(ratio), `gateway ${b["passthrough_asset_rps"]} req/s, nginx ${b["nginx_proxy_asset_rps"] ?? "n/a"} req/s`, ">= 0.8", ratio === null ? "n/a" : ok(ratio >= 0.8)],
    );
  }
  rows.push(
    ["Cache hit, POST /synthesize p50 (ms)", String(r.cache_hit_p50_ms), `miss ${b["cache_miss_ms"]} ms`, "<= 2", ok(r.cache_hit_p50_ms <= 2)],
    ["Cache hits rps / nginx rps", r.cache_hit_rps_vs_nginx_ratio === null ? "n/a" : String(r.cache_hit_rps_vs_nginx_ratio), `hits ${b["cache_hit_rps"]} req/s, nginx ${b["cache_nginx_rps"] ?? "n/a"} req/s`, ">= 0.5", r.cache_hit_rps_vs_nginx_ratio === null ? "n/a" : ok(r.cache_hit_rps_vs_nginx_ratio >= 0.5)],
    ["Pool of two stand-ins / one (jobs/s ratio)", String(r.pool_scaling_ratio_2), `one ${b["pool_one_jobs_per_s"]} jobs/s, two ${b["pool_two_jobs_per_s"]} jobs/s`, ">= 1.8", ok(r.pool_scaling_ratio_2 >= 1.8)],
  );
  if (r.job_wall_vs_segments_ratio_1_box !== undefined && r.job_wall_vs_segments_ratio_2_boxes !== undefined) {
    rows.push(
      ["10,000-char job wall / its segments' synthesis sum, one box", String(r.job_wall_vs_segments_ratio_1_box), `segments' sum ${b["job_segments_sum_ms_1_box"]} ms`, "<= 1.1", ok(r.job_wall_vs_segments_ratio_1_box <= 1.1)],
      ["10,000-char job wall / its segments' synthesis sum, two boxes", String(r.job_wall_vs_segments_ratio_2_boxes), `segments' sum ${b["job_segments_sum_ms_2_boxes"]} ms`, "<= 0.6", ok(r.job_wall_vs_segments_ratio_2_boxes <= 0.6)],
    );
  }
  const na = (v: number | null | undefined) => (v === null || v === undefined ? "n/a" : String(v));
  const met = (v: number | null | undefined, pass: (x: number) => boolean) => (v === null || v === undefined ? "n/a" : ok(pass(v)));
  rows.push(
    ["Gateway's own time / bare /healthz round trip, c=1 (p50 ratio)", na(r.gateway_added_vs_roundtrip_ratio), `own ${r.gateway_added_ms_p50} ms, round trip ${b["healthz_round_trip_p50_ms_c1"]} ms`, "<= 1.5", met(r.gateway_added_vs_roundtrip_ratio, (x) => x <= 1.5)],
    ["RSS at start / warmed-up baseline (MB)", `${b["rss_mb_start"] ?? "n/a"} / ${r.rss_mb_baseline}`, "", "<= 100", ok(r.rss_mb_baseline <= 100)],
    ["RSS, 200 in flight - baseline (MB)", String(Math.round((r.rss_mb_200_inflight - r.rss_mb_baseline) * 10) / 10), `baseline ${r.rss_mb_baseline} MB`, "<= 25", ok(r.rss_mb_200_inflight <= r.rss_mb_baseline + 25)],
    ["Passthrough added / nginx proxy_pass added (p50 ratio)", na(r.passthrough_added_vs_nginx_ratio), `passthrough ${r.passthrough_added_ms_p50} ms, nginx ${b["nginx_proxy_added_p50_ms"] ?? "n/a"} ms`, "<= 1.5", met(r.passthrough_added_vs_nginx_ratio, (x) => x <= 1.5)],
    ["/v1/audio/speech cache hits rps / nginx (same bytes)", na(r.cache_hit_audio_rps_vs_nginx_ratio), `hits ${b["cache_hit_audio_rps"]} req/s, nginx ${b["cache_hit_audio_nginx_rps"] ?? "n/a"} req/s`, ">= 0.5", met(r.cache_hit_audio_rps_vs_nginx_ratio, (x) => x >= 0.5)],
    ["Two gateways / one behind nginx, cache-hit rps", na(r.gateways_2_vs_1_cache_hit_rps), `one ${b["gateways_1_cache_hit_rps"]} req/s, two ${b["gateways_2_cache_hit_rps"]} req/s (2 cores)`, ">= 1.6", met(r.gateways_2_vs_1_cache_hit_rps, (x) => x >= 1.6)],
  );
  const head = ["Figure", "Measured", "Baseline (same run)", "Aim", "Met"];
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}
