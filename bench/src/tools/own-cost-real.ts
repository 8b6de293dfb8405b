/**
 * Figure 2's own time (c=1) as the bench measures it (in-process gateway, real stand-in, paired:
 * latency - SDK call - slot wait) beside the bare GET /healthz round trip, split where it goes:
 * client to server, server to the SDK call, SDK call's end to the response's finish, finish to
 * the client holding the body. Optional: a CPU profile of the measured requests only (PROF, the
 * inspector started after the warm-up), and finer steps from a probe: gateway code calling
 * `(globalThis as any).__mark?.("name")` (not in the gateway; add it where you look, then
 * rebuild) shows as `a->b` p50/p90 lines.
 *   N=60 PROF=/tmp/own.cpuprofile node --import tsx src/tools/own-cost-real.ts
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { startStandin } from "@cosyvoice3/testkit";
import { startInProcessGateway } from "../inproc.ts";
import { summarize } from "../stats.ts";
import { SPEAKER, TEXT } from "../figures/sdk-overhead.ts";

const n = Number(process.env["N"] ?? 60);
const standin = await startStandin({ variant: "official", model: "cosyvoice1" });
const gw = await startInProcessGateway(standin.url, "cosyvoice1", { concurrency: 2, queueSize: 64 });
const body = JSON.stringify({ text: TEXT, voice: `builtin:${SPEAKER}`, seed: 1 });
let seq = 0;
// Marks the gateway's code may leave (a temporary probe: globalThis.__mark), by request.
let marks: Record<string, number> = {};
(globalThis as { __mark?: (n: string) => void }).__mark = (name) => {
  marks[name] = performance.now();
};
const markSeq: Record<string, number>[] = [];
const one = async () => {
  marks = {};
  const id = `own-${++seq}`;
  const c = process.cpuUsage();
  const t = performance.now();
  const res = await fetch(`${gw.url}/synthesize`, { method: "POST", headers: { "content-type": "application/json", "x-request-id": id }, body });
  await res.arrayBuffer();
  const ms = performance.now() - t;
  const cpu = process.cpuUsage(c);
  if (res.status !== 201) throw new Error(`status ${res.status}`);
  const end = t + ms;
  const tr = gw.trace(id)!;
  const seg = {
    toServer: tr.arrivedAt! - t,
    beforeSdk: tr.sdkStartAt! - tr.arrivedAt! - tr.slotWaitMs,
    afterSdk: tr.finishedAt! - tr.sdkEndAt!,
    toClient: end - tr.finishedAt!,
  };
  const order = Object.entries({ ...marks, t0: t, arrived: tr.arrivedAt!, sdkStart: tr.sdkStartAt!, sdkEnd: tr.sdkEndAt!, finished: tr.finishedAt!, end }).sort((a, b) => a[1] - b[1]);
  const steps: Record<string, number> = {};
  for (let i = 1; i < order.length; i++) steps[`${order[i - 1]![0]}->${order[i]![0]}`] = order[i]![1] - order[i - 1]![1];
  markSeq.push(steps);
  return { own: ms - tr.sdkMs - tr.slotWaitMs, sdk: tr.sdkMs, cpuMs: (cpu.user + cpu.system) / 1000, seg };
};
const health = async () => {
  const t = performance.now();
  await (await fetch(`${gw.url}/healthz`)).arrayBuffer();
  return performance.now() - t;
};
for (let i = 0; i < 5; i++) await one();
const session = new Session();
if (process.env["PROF"]) {
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 100 });
  await session.post("Profiler.start");
}
const r: Awaited<ReturnType<typeof one>>[] = [];
const h: number[] = [];
for (let i = 0; i < n; i++) {
  r.push(await one());
  for (let j = 0; j < 3; j++) h.push(await health());
}
if (process.env["PROF"]) {
  const { profile } = await session.post("Profiler.stop");
  writeFileSync(process.env["PROF"], JSON.stringify(profile));
}
const own = summarize(r.map((x) => x.own));
const hz = summarize(h);
console.log(JSON.stringify({ n, own, healthz: hz, ratio: +(own.p50 / hz.p50).toFixed(2), sdkP50: summarize(r.map((x) => x.sdk)).p50, cpuPerSynthP50: summarize(r.map((x) => x.cpuMs)).p50 }));
const stepNames = [...new Set(markSeq.slice(5).flatMap((m) => Object.keys(m)))];
for (const k of stepNames) { const v = markSeq.slice(5).map((m) => m[k]).filter((x): x is number => x !== undefined); if (v.length > markSeq.length / 2) console.log(k.padEnd(28), summarize(v).p50, summarize(v).p90); }
for (const k of ["toServer", "beforeSdk", "afterSdk", "toClient"] as const) console.log(k, JSON.stringify(summarize(r.map((x) => x.seg[k]))));
await gw.close();
await standin.stop();
process.exit(0);
