#!/usr/bin/env node
/* global process */
// Builds a workspace package (and what it depends on) only when a source is newer than its
// build, so `npm run gateway`, `npm run cosyvoice`, the SDK's prepack and the like are quick when
// nothing changed and never rewrite a fresh dist/ under a test run that reads it. Build output
// goes to stderr.
//
//   node scripts/build-if-stale.mjs <pnpm filter, e.g. cosyvoice3-gateway...> <package dir>...
//   import { buildIfStale } from "./build-if-stale.mjs"   (scripts/cosyvoice.mjs)
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

function newest(dir) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Whether any of the package dirs (relative to the root) has a source newer than its dist/index.js. */
export function isStale(dirs) {
  return dirs.some((d) => {
    const dir = resolve(ROOT, d);
    const entry = join(dir, "dist/index.js");
    return !existsSync(entry) || newest(join(dir, "src")) > statSync(entry).mtimeMs;
  });
}

/**
 * Runs `pnpm --filter <filter> run build` when {@link isStale}; returns its exit status (0 when
 * nothing was stale). `onBuild` runs first, e.g. to say why the command is slow this once.
 */
export function buildIfStale(filter, dirs, { onBuild } = {}) {
  if (!isStale(dirs)) return 0;
  onBuild?.();
  const build = spawnSync("bash", [join(ROOT, "scripts/with-pnpm.sh"), "--filter", filter, "run", "build"], { cwd: ROOT, stdio: ["ignore", process.stderr, "inherit"] });
  return build.status ?? 1;
}

// Run as a command (not imported).
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  const [filter, ...dirs] = process.argv.slice(2);
  if (!filter || dirs.length === 0) {
    process.stderr.write("usage: build-if-stale.mjs <pnpm filter> <package dir>...\n");
    process.exit(2);
  }
  process.exit(buildIfStale(filter, dirs));
}
