/**
 * The gateway's own cost on the synthesis path, free of any backend: an in-process gateway
 * over a backend that answers at once with a prepared WAV (as figure 2's in-process gateway is
 * built: write-behind disk store, no cache, logger at `LOG`, default warn), sequential
 * POST /synthesize and GET /healthz. Prints, per request, wall time (p50) and this process's
 * CPU time (client and server), and where the wall time of a synthesis goes: client to server,
 * server to the backend call, backend call to the response's finish, finish to the client
 * holding the body. A fixed delay shows in wall time and not in CPU time. Under the profiler:
 *   N=1800 node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx src/tools/own-cost-profile.ts
 */
import { createServer } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { createApp } from "../../../apps/gateway/src/app.ts";
import { defaultConfig } from "../../../apps/gateway/src/platform/config.ts";
import { DiskAudioStore } from "../../../apps/gateway/src/platform/stores/audio-store.ts";
import { WriteBehindAudioStore } from "../../../apps/gateway/src/platform/stores/write-behind-audio-store.ts";
import { DiskVoiceStore } from "../../../apps/gateway/src/platform/stores/voice-store.ts";
import { FakeBackend } from "../../../apps/gateway/test/helpers/fake-backend.ts";
import { makeWav } from "../../../apps/gateway/test/helpers/wav.ts";
import { summarize } from "../stats.ts";

const level = process.env["LOG"] ?? "warn";
const dir = mkdtempSync(join(tmpdir(), "prof-"));
const config = defaultConfig({ dataDir: dir, rateLimit: { windowMs: 60_000, synthesize: 1e9, upload: 1e9, read: 1e9 }, logLevel: level as "warn" });
const logger = pino({ level }, pino.destination({ dest: "/dev/null", sync: false }));
const disk = await DiskAudioStore.open(join(dir, "audio"), { ttlMs: 60_000, maxBytes: 1e9 });
// STORE=mem: clips kept in a map, nothing written (how much of the own time the disk write is).
const mem = new Map<string, Uint8Array>();
const audio =
  process.env["STORE"] === "mem"
    ? new WriteBehindAudioStore({ put: async (m, d) => (mem.set(m.id, d), { ...m, bytes: d.byteLength, createdAt: 0, expiresAt: 0, etag: "" }), stat: async () => undefined, read: async () => undefined, close: async () => undefined }, { ttlMs: 60_000, maxPendingBytes: 16e6, logger })
    : new WriteBehindAudioStore(disk, { ttlMs: 60_000, maxPendingBytes: 16e6, logger });
const marks = { arrived: 0, sdkStart: 0, sdkEnd: 0, finished: 0 };
class Instant extends FakeBackend {
  readonly wav = makeWav({ sampleRate: 22_050, seconds: 3, freq: 180 });
  override async synthesize() {
    marks.sdkStart = performance.now();
    const r = { audio: this.wav, mimeType: "audio/wav" as const, sampleRate: 22_050, durationMs: 3000, chunks: 2 };
    await new Promise((res) => setImmediate(res));
    marks.sdkEnd = performance.now();
    return r;
  }
}
const app = createApp(config, { backend: new Instant(), voices: await DiskVoiceStore.open(join(dir, "voices")), audio, logger });
const server = createServer((req, res) => {
  marks.arrived = performance.now();
  res.once("finish", () => (marks.finished = performance.now()));
  app(req, res);
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
const body = JSON.stringify({ text: "The quick brown fox jumps over the lazy dog.", voice: "builtin:英文男", seed: 1 });
const n = Number(process.env["N"] ?? 1200);
const segs = { toServer: [] as number[], beforeSdk: [] as number[], afterSdk: [] as number[], toClient: [] as number[], own: [] as number[] };
const synth = async () => {
  const t = performance.now();
  const r = await fetch(`${url}/synthesize`, { method: "POST", headers: { "content-type": "application/json" }, body });
  await r.arrayBuffer();
  const status = r.status;
  const end = performance.now();
  if (status !== 201) throw new Error(String(status));
  segs.toServer.push(marks.arrived - t);
  segs.beforeSdk.push(marks.sdkStart - marks.arrived);
  segs.afterSdk.push(marks.finished - marks.sdkEnd);
  segs.toClient.push(end - marks.finished);
  segs.own.push(end - t - (marks.sdkEnd - marks.sdkStart));
};
const hz: number[] = [];
const health = async () => {
  const t = performance.now();
  await (await fetch(`${url}/healthz`)).arrayBuffer();
  hz.push(performance.now() - t);
};
const cpu = async (f: () => Promise<void>, k: number) => { const c = process.cpuUsage(); for (let i = 0; i < k; i++) await f(); const d = process.cpuUsage(c); return (d.user + d.system) / k; };
for (let i = 0; i < 300; i++) { await synth(); await health(); }
for (const k of Object.keys(segs) as (keyof typeof segs)[]) segs[k].length = 0;
hz.length = 0;
const rs: number[] = []; const hs: number[] = [];
for (let b = 0; b < 6; b++) { rs.push(await cpu(synth, n / 6)); hs.push(await cpu(health, n / 6)); await new Promise((r) => setTimeout(r, 50)); }
const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const p50 = (a: number[]) => summarize(a).p50;
console.log(JSON.stringify({
  log: level, store: process.env["STORE"] ?? "disk",
  synth_cpu_us: +med(rs).toFixed(0), healthz_cpu_us: +med(hs).toFixed(0), cpu_ratio: +(med(rs) / med(hs)).toFixed(2),
  own_p50_ms: p50(segs.own), healthz_p50_ms: p50(hz), wall_ratio: +(p50(segs.own) / p50(hz)).toFixed(2),
  toServer: p50(segs.toServer), beforeSdk: p50(segs.beforeSdk), afterSdk: p50(segs.afterSdk), toClient: p50(segs.toClient),
}));
server.close();
await audio.close();
process.exit(0);
