/**
 * The gateway's own cost on the synthesis path, free of any backend: an in-process gateway
 * over a backend that answers at once with a prepared WAV, sequential POST /synthesize and
 * GET /healthz, and the CPU time of each (this process: client and server). Run it under the
 * profiler to see where the time goes:
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

const dir = mkdtempSync(join(tmpdir(), "prof-"));
const config = defaultConfig({ dataDir: dir, rateLimit: { windowMs: 60_000, synthesize: 1e9, upload: 1e9, read: 1e9 }, logLevel: "info", cache: { maxBytes: 0, ttlMs: 60_000 } });
const logger = pino({ level: "info" }, pino.destination({ dest: "/dev/null", sync: false }));
const disk = await DiskAudioStore.open(join(dir, "audio"), { ttlMs: 60_000, maxBytes: 1e9 });
const audio = new WriteBehindAudioStore(disk, { ttlMs: 60_000, maxPendingBytes: 16e6, logger });
class Instant extends FakeBackend {
  readonly wav = makeWav({ sampleRate: 22_050, seconds: 1.5, freq: 180 });
  override async synthesize() {
    return { audio: this.wav, mimeType: "audio/wav" as const, sampleRate: 22_050, durationMs: 1500, chunks: 2 };
  }
}
const app = createApp(config, { backend: new Instant(), voices: await DiskVoiceStore.open(join(dir, "voices")), audio, logger });
const server = createServer(app);
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
const body = JSON.stringify({ text: "The quick brown fox jumps over the lazy dog.", voice: "builtin:英文男", seed: 1 });
const n = Number(process.env["N"] ?? 2000);
const synth = async () => { const r = await fetch(`${url}/synthesize`, { method: "POST", headers: { "content-type": "application/json" }, body }); await r.arrayBuffer(); if (r.status !== 201) throw new Error(String(r.status)); };
const health = async () => { await (await fetch(`${url}/healthz`)).arrayBuffer(); };
const cpu = async (f: () => Promise<void>, k: number) => { const c = process.cpuUsage(); for (let i = 0; i < k; i++) await f(); const d = process.cpuUsage(c); return (d.user + d.system) / k; };
for (let i = 0; i < 300; i++) { await synth(); await health(); }
const rs: number[] = []; const hs: number[] = [];
for (let b = 0; b < 6; b++) { rs.push(await cpu(synth, n / 6)); hs.push(await cpu(health, n / 6)); await new Promise((r) => setTimeout(r, 50)); }
const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
console.log(JSON.stringify({ synth_cpu_us: med(rs).toFixed(0), healthz_cpu_us: med(hs).toFixed(0), ratio: (med(rs) / med(hs)).toFixed(2) }));
server.close();
await audio.close();
process.exit(0);
