/**
 * What any Node proxy adds to `GET /cosyvoice/config`, beside the gateway's passthrough and
 * nginx: a bare `http.createServer` + `http.request` on a keep-alive agent, piping both ways
 * (no middleware, no header work), in its own process. The four paths rotate one request at a
 * time as figure 6 does, so each p50 is of the same moments.
 *   N=400 node --import tsx src/tools/passthrough-floor.ts
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startStandin } from "@cosyvoice3/testkit";
import { ensureNginx, startGatewayProcess, startNginxProxy } from "../procs.ts";
import { summarize } from "../stats.ts";

const n = Number(process.env["N"] ?? 400);
const standin = await startStandin({ variant: "official", model: "cosyvoice3" });
const dir = mkdtempSync(join(tmpdir(), "bench-routes-"));
writeFileSync(join(dir, "routes.yaml"), `routes:\n  - path: /cosyvoice/\n    kind: gradio\n    backends: ["${standin.url}"]\n`);
const gw = await startGatewayProcess({ COSYVOICE_URL: standin.url, ROUTES_FILE: join(dir, "routes.yaml"), ...(process.env["GW_LOG"] ? { LOG_LEVEL: process.env["GW_LOG"] } : {}) });
const ng = await startNginxProxy(ensureNginx(() => undefined)!, "/cosyvoice/", standin.url);
const port = await freePort();
const up = new URL(standin.url);
const bare = spawn(process.execPath, ["-e", `
const http = require("node:http");
const agent = new http.Agent({ keepAlive: true });
http.createServer((req, res) => {
  const p = http.request({ host: ${JSON.stringify(up.hostname)}, port: ${up.port}, path: req.url.replace(/^\\/cosyvoice/, ""), method: req.method, headers: req.headers, agent }, (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res); });
  req.pipe(p);
}).listen(${port}, "127.0.0.1", () => console.log("up"));
`], { stdio: ["ignore", "pipe", "inherit"] });
await new Promise((r) => bare.stdout!.once("data", r));
const once = async (url: string) => {
  const t = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return performance.now() - t;
};
const paths = { gateway: `${gw.url}/cosyvoice/config`, nginx: `${ng.url}/cosyvoice/config`, bareNode: `http://127.0.0.1:${port}/cosyvoice/config`, direct: `${standin.url}/config` };
const names = Object.keys(paths) as (keyof typeof paths)[];
for (let i = 0; i < 20; i++) for (const k of names) await once(paths[k]);
const s = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<keyof typeof paths, number[]>;
for (let i = 0; i < n; i++) for (let j = 0; j < names.length; j++) { const k = names[(i + j) % names.length]!; s[k].push(await once(paths[k])); }
const p = Object.fromEntries(names.map((k) => [k, summarize(s[k]).p50]));
const added = { gateway: +(p.gateway! - p.direct!).toFixed(3), nginx: +(p.nginx! - p.direct!).toFixed(3), bareNode: +(p.bareNode! - p.direct!).toFixed(3) };
console.log(JSON.stringify({ p50: p, added, gatewayVsNginx: +(added.gateway / added.nginx).toFixed(2), bareNodeVsNginx: +(added.bareNode / added.nginx).toFixed(2), gatewayVsBareNode: +(added.gateway / added.bareNode).toFixed(2) }));
bare.kill();
await ng.stop();
await gw.stop();
await standin.stop();
process.exit(0);
