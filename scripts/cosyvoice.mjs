#!/usr/bin/env node
/* global process */
// `pnpm cosyvoice <command>` from the repository root: builds the CLI and what it imports (the
// SDK and the typed client) when a source is newer than its build, then runs it in this process,
// so Ctrl-C reaches it directly. Build output goes to stderr; stdout stays the CLI's.
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildIfStale } from "./build-if-stale.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

const built = buildIfStale("cosyvoice3-cli...", ["packages/sdk", "packages/client", "packages/cli"], {
  onBuild: () => process.stderr.write("cosyvoice: building the CLI (once, or after a source change) ...\n"),
});
if (built !== 0) {
  process.stderr.write("cosyvoice: the build failed\n");
  process.exit(1);
}
// pnpm runs scripts in the repository root; relative paths (clone FILE, --out) are the caller's.
if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
await import(pathToFileURL(join(ROOT, "packages/cli/dist/bin.js")).href);
