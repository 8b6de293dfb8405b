/**
 * Figures 6 and 7: the passthrough. (6) What `GET /cosyvoice/config` through the gateway's
 * passthrough costs over asking the UI directly, and over what nginx `proxy_pass` costs on the
 * same request: the three paths rotate, one request at a time over keep-alive connections, and
 * the p50 of each is compared (Gradio builds its config per request, so every path carries
 * that work). (7) Requests per second for one static
 * asset of the UI through the gateway (its own process, built code) versus through nginx
 * `proxy_pass` (one worker, keep-alive upstream, buffering off), both in front of the same
 * stand-in and driven by autocannon with the same connections, in alternating one-second
 * rounds (the ratio is the median of the per-round ratios), so load from elsewhere on a shared
 * machine falls on both.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStandin } from "@cosyvoice3/testkit";
import autocannon from "autocannon";
import { ensureNginx, startGatewayProcess, startNginxProxy } from "../procs.ts";
import { round, summarize, type Summary } from "../stats.ts";

export interface PassthroughFigures {
  /** `addedVsNginxRatio`: what the passthrough adds over what nginx proxy_pass adds to the same request, p50s of the same rotation. */
  config: { requests: number; viaGateway: Summary; direct: Summary; addedP50Ms: number; viaNginx?: Summary; nginxAddedP50Ms?: number; addedVsNginxRatio?: number };
  asset: { path: string; bytes: number; connections: number; durationS: number; gatewayRps: number; nginxRps?: number; ratio?: number; gatewayNon2xx: number; nginxNon2xx?: number; note?: string };
}

interface Load {
  rps: number;
  non2xx: number;
}

/**
 * Requests per second of `a` and `b`, measured in alternating one-second rounds so that load
 * from elsewhere on a shared machine falls on both: the median round of each, and the median of
 * the per-round ratios a/b (each ratio compares two rounds a second apart).
 */
async function alternating(a: string, b: string, connections: number, durationS: number): Promise<{ a: Load; b: Load; ratio: number }> {
  const rounds = Math.max(3, durationS);
  for (const url of [a, b]) await autocannon({ url, connections, duration: 1 }); // warm-up
  const ra: number[] = [];
  const rb: number[] = [];
  const ratios: number[] = [];
  let na = 0;
  let nb = 0;
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so neither always follows the other's load.
    const [first, second] = i % 2 === 0 ? [a, b] : [b, a];
    const x = await autocannon({ url: first, connections, duration: 1 });
    const y = await autocannon({ url: second, connections, duration: 1 });
    const [ax, bx] = i % 2 === 0 ? [x, y] : [y, x];
    ra.push(ax.requests.average);
    rb.push(bx.requests.average);
    ratios.push(ax.requests.average / Math.max(1, bx.requests.average));
    na += ax.non2xx + ax.errors;
    nb += bx.non2xx + bx.errors;
  }
  return {
    a: { rps: round(summarize(ra).p50, 0), non2xx: na },
    b: { rps: round(summarize(rb).p50, 0), non2xx: nb },
    ratio: round(summarize(ratios).p50, 3),
  };
}

async function rps(url: string, connections: number, duration: number): Promise<Load> {
  await autocannon({ url, connections, duration: 1 }); // warm-up
  const r = await autocannon({ url, connections, duration });
  return { rps: round(r.requests.average, 0), non2xx: r.non2xx + r.errors };
}

async function once(url: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return performance.now() - t;
}

/**
 * @example const p = await passthroughFigures(400, 8, 32, console.error);
 */
export async function passthroughFigures(requests: number, durationS: number, connections: number, log: (s: string) => void): Promise<PassthroughFigures> {
  const standin = await startStandin({ variant: "official", model: "cosyvoice3" });
  const dir = mkdtempSync(join(tmpdir(), "bench-routes-"));
  const routesFile = join(dir, "routes.yaml");
  writeFileSync(routesFile, `routes:\n  - path: /cosyvoice/\n    kind: gradio\n    backends: ["${standin.url}"]\n`);
  const gw = await startGatewayProcess({ COSYVOICE_URL: standin.url, ROUTES_FILE: routesFile });
  const bin = ensureNginx(log);
  const ng = bin ? await startNginxProxy(bin, "/cosyvoice/", standin.url) : undefined;
  try {
    const via = `${gw.url}/cosyvoice/config`;
    const direct = `${standin.url}/config`;
    const viaNginx = ng ? `${ng.url}/cosyvoice/config` : undefined;
    // The three paths in a rotating order, one request at a time, so neither runs on a warmer UI.
    const paths = [via, direct, ...(viaNginx ? [viaNginx] : [])];
    for (let i = 0; i < 20; i++) for (const p of paths) await once(p);
    const samples = new Map<string, number[]>(paths.map((p) => [p, []]));
    for (let i = 0; i < requests; i++) {
      for (let j = 0; j < paths.length; j++) {
        const p = paths[(i + j) % paths.length]!;
        samples.get(p)!.push(await once(p));
      }
    }
    const viaGateway = summarize(samples.get(via)!);
    const directS = summarize(samples.get(direct)!);
    const nginxS = viaNginx ? summarize(samples.get(viaNginx)!) : undefined;
    const addedP50Ms = round(viaGateway.p50 - directS.p50, 3);
    const nginxAddedP50Ms = nginxS ? round(nginxS.p50 - directS.p50, 3) : undefined;
    const config = {
      requests,
      viaGateway,
      direct: directS,
      addedP50Ms,
      ...(nginxS && nginxAddedP50Ms !== undefined ? { viaNginx: nginxS, nginxAddedP50Ms, addedVsNginxRatio: round(addedP50Ms / Math.max(0.001, nginxAddedP50Ms), 3) } : {}),
    };
    log(`  GET /cosyvoice/config p50: via gateway ${viaGateway.p50} ms, via nginx proxy_pass ${nginxS?.p50 ?? "n/a"} ms, direct ${directS.p50} ms`);

    const page = await (await fetch(`${standin.url}/`)).text();
    const asset = /\.\/(assets\/index-[^"]+\.css)/.exec(page)?.[1] ?? "theme.css";
    const bytes = (await (await fetch(`${standin.url}/${asset}`)).arrayBuffer()).byteLength;
    if (!bin || !ng) {
      const ours = await rps(`${gw.url}/cosyvoice/${asset}`, connections, durationS);
      return { config, asset: { path: asset, bytes, connections, durationS, gatewayRps: ours.rps, gatewayNon2xx: ours.non2xx, note: "nginx not available" } };
    }
    const { a: ours, b: theirs, ratio } = await alternating(`${gw.url}/cosyvoice/${asset}`, `${ng.url}/cosyvoice/${asset}`, connections, durationS);
    log(`  ${asset} (${bytes} bytes): gateway ${ours.rps} req/s, nginx proxy_pass ${theirs.rps} req/s`);
    return {
      config,
      asset: { path: asset, bytes, connections, durationS, gatewayRps: ours.rps, gatewayNon2xx: ours.non2xx, nginxRps: theirs.rps, nginxNon2xx: theirs.non2xx, ratio },
    };
  } finally {
    await ng?.stop();
    await gw.stop();
    await standin.stop();
  }
}
