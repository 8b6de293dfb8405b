// Lists the files the gateway's main loads, grouped by package, with their sizes.
import { createRequire } from "node:module";
process.env.PORT = "41602"; process.env.HOST = "127.0.0.1"; process.env.LOG_LEVEL = "silent"; process.env.COSYVOICE_URL = "http://127.0.0.1:41699"; process.env.DATA_DIR = "/tmp/gw19-data";
await import("./dist/main.js");
setTimeout(async () => {
  const { readFileSync, statSync } = await import("node:fs");
  // ESM loaded modules are not listed anywhere public; use /proc maps? No: use the CJS cache + ESM via inspector
  const req = createRequire(import.meta.url);
  const byPkg = {};
  for (const f of Object.keys(req.cache)) { const m = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(f); const k = m ? m[1] : f.split("/").slice(0, 6).join("/"); byPkg[k] = (byPkg[k] ?? 0) + statSync(f).size; }
  console.log(Object.entries(byPkg).sort((a, b) => b[1] - a[1]).slice(0, 40).map(([k, v]) => `${k} ${(v / 1024).toFixed(0)}K`).join("\n"));
  console.log("rss", (process.memoryUsage().rss / 1048576).toFixed(1), "heapUsed", (process.memoryUsage().heapUsed / 1048576).toFixed(1));
  process.exit(0);
}, 3000);
