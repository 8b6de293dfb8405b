#!/usr/bin/env node
/* global process, console */
// `npm test` after setup: build, then the vitest projects side by side with typecheck, lint and
// the README check. The tests mostly wait (on stand-ins, delays, ffmpeg), so the checks use the
// idle core; they run niced, so the tests' timing comes first. Each step's output is kept and
// printed once it ends (vitest's streams live), then one line per step with its time.
//
//   node scripts/test-all.mjs [vitest args...]     e.g. --project gateway
//
// TEST_STEPS=vitest,typecheck (any of build, typecheck, lint, readme, vitest) runs only those.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PNPM = ["bash", join(ROOT, "scripts/with-pnpm.sh")];
const only = process.env.TEST_STEPS ? new Set(process.env.TEST_STEPS.split(",")) : undefined;
const wanted = (name) => !only || only.has(name);
const vitestArgs = process.argv.slice(2);

/** Runs one step; resolves with its result (never rejects). */
function step(name, argv, { live = false, nice = false } = {}) {
  const started = Date.now();
  const cmd = nice ? ["nice", "-n", "10", ...argv] : argv;
  return new Promise((resolve) => {
    const child = spawn(cmd[0], cmd.slice(1), { cwd: ROOT, stdio: live ? "inherit" : ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? "1" } });
    let out = "";
    if (!live) {
      child.stdout.on("data", (b) => (out += b));
      child.stderr.on("data", (b) => (out += b));
    }
    child.on("close", (code, signal) => {
      const seconds = (Date.now() - started) / 1000;
      if (!live) process.stdout.write(`\n── ${name} (${code === 0 ? "ok" : `failed: ${code ?? signal}`}, ${seconds.toFixed(1)} s) ──\n${out}`);
      resolve({ name, ok: code === 0, seconds });
    });
  });
}

const t0 = Date.now();
const results = [];
if (wanted("build")) {
  const build = await step("build", [...PNPM, "run", "build"]);
  results.push(build);
  if (!build.ok) finish();
}
const side = [];
// typecheck, then lint, in one lane: two tsc/eslint processes at once would take both cores.
if (wanted("typecheck") || wanted("lint")) {
  side.push(
    (async () => {
      const r = [];
      if (wanted("typecheck")) r.push(await step("typecheck", [...PNPM, "run", "typecheck"], { nice: true }));
      if (wanted("lint")) r.push(await step("lint", [...PNPM, "run", "lint"], { nice: true }));
      return r;
    })(),
  );
}
if (wanted("readme")) side.push(step("README examples", [process.execPath, join(ROOT, "scripts/check-readme-examples.mjs"), "--free-ports", "--no-build"], { nice: true }).then((r) => [r]));
const lanes = [...side];
if (wanted("vitest")) lanes.push(step("vitest", [...PNPM, "exec", "vitest", "run", ...vitestArgs], { live: true }).then((r) => [r]));
for (const r of (await Promise.all(lanes)).flat()) results.push(r);
finish();

function finish() {
  const total = (Date.now() - t0) / 1000;
  console.log("\n── npm test ──");
  for (const r of results) console.log(`${r.ok ? "ok    " : "FAILED"} ${r.name.padEnd(16)} ${r.seconds.toFixed(1).padStart(7)} s`);
  console.log(`wall time ${total.toFixed(1)} s`);
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}
