#!/usr/bin/env node
/* global process */
// Builds a workspace package (and what it depends on) only when a source is newer than its
// build, so `npm run gateway`, the SDK's prepack and the like are quick when nothing changed and
// never rewrite a fresh dist/ under a test run that reads it. Build output goes to stderr.
//
//   node scripts/build-if-stale.mjs <pnpm filter, e.g. cosyvoice3-gateway...> <package dir>...
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const [filter, ...dirs] = process.argv.slice(2);
if (!filter || dirs.length === 0) {
  process.stderr.write("usage: build-if-stale.mjs <pnpm filter> <package dir>...\n");
  process.exit(2);
}

function newest(dir) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const stale = dirs.some((d) => {
  const dir = resolve(ROOT, d);
  const entry = join(dir, "dist/index.js");
  return !existsSync(entry) || newest(join(dir, "src")) > statSync(entry).mtimeMs;
});
if (stale) {
  const build = spawnSync("bash", [join(ROOT, "scripts/with-pnpm.sh"), "--filter", filter, "run", "build"], { cwd: ROOT, stdio: ["ignore", process.stderr, "inherit"] });
  process.exit(build.status ?? 1);
}
