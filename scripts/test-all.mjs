#!/usr/bin/env node
/* global process, console */
// `npm test` after setup: the build beside typecheck and lint, then the vitest projects beside
// the README check. The tests mostly wait (on stand-ins, delays, ffmpeg), so the checks use the
// idle core; they run niced, so the tests' timing comes first. Each step's output is kept and
// printed once it ends (vitest's streams live), then one line per step with its wall and CPU time.
//
// The build only emits (`tsc --noCheck` in each package's build script): `npm run typecheck` is
// the one type-check of every source and test. It starts with the build, on the core the build
// (one tsc at a time) leaves idle, and lint follows it in the same lane; vitest and the README
// check need the build's dist/ and start once it is done.
//
//   node scripts/test-all.mjs [vitest args...]     e.g. --project gateway
//
// TEST_STEPS=vitest,typecheck (any of build, typecheck, lint, readme, vitest) runs only those.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PNPM = ["bash", join(ROOT, "scripts/with-pnpm.sh")];
const only = process.env.TEST_STEPS ? new Set(process.env.TEST_STEPS.split(",")) : undefined;
const wanted = (name) => !only || only.has(name);
const vitestArgs = process.argv.slice(2);

// Each step's CPU time (its whole process tree, reaped children included) through GNU time
// when the machine has it; without it the summary shows wall time only.
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
const cpuDir = TIME ? mkdtempSync(join(tmpdir(), "test-all-cpu-")) : undefined;

/** Runs one step; resolves with its result (never rejects). */
function step(name, argv, { live = false, nice = false } = {}) {
  const started = Date.now();
  const cpuFile = cpuDir && join(cpuDir, name.replace(/\W+/g, "-"));
  const cmd = [...(cpuFile ? [TIME, "-q", "-f", "%U %S", "-o", cpuFile] : []), ...(nice ? ["nice", "-n", "10"] : []), ...argv];
  return new Promise((resolve) => {
    const child = spawn(cmd[0], cmd.slice(1), { cwd: ROOT, stdio: live ? "inherit" : ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? "1" } });
    let out = "";
    if (!live) {
      child.stdout.on("data", (b) => (out += b));
      child.stderr.on("data", (b) => (out += b));
    }
    child.on("close", (code, signal) => {
      const seconds = (Date.now() - started) / 1000;
      let cpu;
      try {
        const [user, sys] = readFileSync(cpuFile, "utf8").trim().split("\n").at(-1).split(" ").map(Number);
        if (Number.isFinite(user) && Number.isFinite(sys)) cpu = user + sys;
      } catch {
        // no GNU time, or the step was killed before it wrote
      }
      if (!live) process.stdout.write(`\n── ${name} (${code === 0 ? "ok" : `failed: ${code ?? signal}`}, ${seconds.toFixed(1)} s) ──\n${out}`);
      resolve({ name, ok: code === 0, seconds, cpu });
    });
  });
}

const t0 = Date.now();
const results = [];
const lanes = [];
// typecheck, then lint, in one lane (two tsc/eslint processes at once would take both cores),
// from the start: the build needs only one core.
if (wanted("typecheck") || wanted("lint")) {
  lanes.push(
    (async () => {
      const r = [];
      if (wanted("typecheck")) r.push(await step("typecheck", [...PNPM, "run", "typecheck"], { nice: true }));
      if (wanted("lint")) r.push(await step("lint", [...PNPM, "run", "lint"], { nice: true }));
      return r;
    })(),
  );
}
const build = wanted("build") ? await step("build", [...PNPM, "run", "build"]) : undefined;
if (build) results.push(build);
if (build?.ok !== false) {
  if (wanted("readme")) lanes.push(step("README examples", [process.execPath, join(ROOT, "scripts/check-readme-examples.mjs"), "--free-ports", "--no-build"], { nice: true }).then((r) => [r]));
  if (wanted("vitest")) lanes.push(step("vitest", [...PNPM, "exec", "vitest", "run", ...vitestArgs], { live: true }).then((r) => [r]));
}
for (const r of (await Promise.all(lanes)).flat()) results.push(r);
finish();

function finish() {
  const total = (Date.now() - t0) / 1000;
  if (cpuDir) rmSync(cpuDir, { recursive: true, force: true });
  console.log("\n── npm test ──");
  for (const r of results) console.log(`${r.ok ? "ok    " : "FAILED"} ${r.name.padEnd(16)} ${r.seconds.toFixed(1).padStart(7)} s${r.cpu === undefined ? "" : `  (CPU ${r.cpu.toFixed(1)} s)`}`);
  const cpu = results.reduce((sum, r) => sum + (r.cpu ?? 0), 0);
  console.log(`wall time ${total.toFixed(1)} s${TIME ? `, CPU ${cpu.toFixed(1)} s` : ""}`);
  process.exit(results.every((r) => r.ok) && build?.ok !== false ? 0 : 1);
}
