#!/usr/bin/env node
/* global process */
// `pnpm cosyvoice <command>` from the repository root: builds the CLI and what it imports (the
// SDK and the typed client) when a source is newer than its build, then runs it in this process,
// so Ctrl-C reaches it directly. Build output goes to stderr; stdout stays the CLI's.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PACKAGES = ["packages/sdk", "packages/client", "packages/cli"];

function newest(dir) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const stale = PACKAGES.some((p) => {
  const entry = join(ROOT, p, "dist/index.js");
  return !existsSync(entry) || newest(join(ROOT, p, "src")) > statSync(entry).mtimeMs;
});
if (stale) {
  process.stderr.write("cosyvoice: building the CLI (once, or after a source change) ...\n");
  const build = spawnSync("bash", [join(ROOT, "scripts/with-pnpm.sh"), "--filter", "cosyvoice3-cli...", "run", "build"], {
    cwd: ROOT,
    stdio: ["ignore", process.stderr, "inherit"],
  });
  if (build.status !== 0) {
    process.stderr.write("cosyvoice: the build failed\n");
    process.exit(1);
  }
}
// pnpm runs scripts in the repository root; relative paths (clone FILE, --out) are the caller's.
if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
await import(pathToFileURL(join(ROOT, "packages/cli/dist/bin.js")).href);
