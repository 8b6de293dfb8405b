/**
 * Figure 3: `GET /audio/:id` requests per second from the gateway (its own process, built
 * code, rate limit raised out of the way) versus nginx (Debian package, one worker, sendfile,
 * access log off) serving the same bytes from a temp dir, both driven by autocannon from this
 * process with the same connections and duration.
 */
import { startStandin } from "@cosyvoice3/testkit";
import autocannon from "autocannon";
import { ensureNginx, startGatewayProcess, startNginx } from "../procs.ts";
import { round } from "../stats.ts";
import { SPEAKER, TEXT } from "./sdk-overhead.ts";

export interface Serving {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

export interface AudioServing {
  bytes: number;
  connections: number;
  durationS: number;
  gateway: Serving;
  nginx?: Serving;
  ratio?: number;
  note?: string;
}

async function load(url: string, connections: number, duration: number): Promise<Serving> {
  await autocannon({ url, connections, duration: 1 }); // warm-up
  const r = await autocannon({ url, connections, duration });
  return { rps: round(r.requests.average, 0), p50Ms: r.latency.p50, p99Ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors };
}

export async function audioServing(durationS: number, connections: number, log: (s: string) => void): Promise<AudioServing> {
  const standin = await startStandin({ variant: "official", model: "cosyvoice1" });
  const gw = await startGatewayProcess({ COSYVOICE_URL: standin.url, COSYVOICE_MODEL: "cosyvoice1" });
  try {
    const res = await fetch(`${gw.url}/synthesize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: TEXT, voice: `builtin:${SPEAKER}` }),
    });
    const created = (await res.json()) as { id: string; url: string; mimeType: string };
    const bytes = new Uint8Array(await (await fetch(gw.url + created.url)).arrayBuffer());
    await standin.stop();
    const gateway = await load(gw.url + created.url, connections, durationS);
    log(`  gateway: ${gateway.rps} req/s (${bytes.length} bytes per answer)`);
    const bin = ensureNginx(log);
    if (!bin) return { bytes: bytes.length, connections, durationS, gateway, note: "nginx not available" };
    const ng = await startNginx(bin, created.id, bytes, created.mimeType);
    try {
      const nginx = await load(`${ng.url}/audio/${created.id}`, connections, durationS);
      log(`  nginx: ${nginx.rps} req/s`);
      return { bytes: bytes.length, connections, durationS, gateway, nginx, ratio: gateway.rps / nginx.rps };
    } finally {
      await ng.stop();
    }
  } finally {
    await gw.stop();
    await standin.stop();
  }
}
