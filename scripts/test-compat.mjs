#!/usr/bin/env node
/* global process, console */
// Runs the stand-in's test project against the newest gradio 5.x and 6.x environments
// (apps/standin/.venv-5x, .venv-6x, made by scripts/setup-compat.sh) and prints, per
// environment, which test passed and which failed. Exit code 0 only when all passed.
// Usage: node scripts/test-compat.mjs [5x|6x ...]   (inside `pnpm test:compat`, after setup)
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const wanted = process.argv.slice(2);
const envs = (wanted.length ? wanted : ["5x", "6x"]).map((v) => ({ name: v, python: join(ROOT, `apps/standin/.venv-${v}/bin/python`) }));
const vitest = join(ROOT, "node_modules/.bin/vitest");

let allPassed = true;
const summary = [];
for (const env of envs) {
  if (!existsSync(env.python)) {
    console.log(`[compat ${env.name}] missing ${env.python}: run bash scripts/setup-compat.sh`);
    allPassed = false;
    continue;
  }
  const version = spawnSync(env.python, ["-c", "import gradio; print(gradio.__version__)"], { encoding: "utf8" }).stdout.trim();
  const report = join(mkdtempSync(join(tmpdir(), "compat-")), "report.json");
  console.log(`[compat ${env.name}] gradio ${version}: running the standin test project`);
  const run = spawnSync(vitest, ["run", "--project", "standin", "--reporter=json", `--outputFile=${report}`], {
    cwd: ROOT,
    env: { ...process.env, STANDIN_PYTHON: env.python },
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (!existsSync(report)) {
    console.log(`[compat ${env.name}] vitest produced no report (exit ${run.status})`);
    allPassed = false;
    continue;
  }
  const results = JSON.parse(readFileSync(report, "utf8"));
  let passed = 0;
  let failed = 0;
  for (const file of results.testResults) {
    for (const t of file.assertionResults) {
      const name = `${file.name.replace(`${ROOT}/`, "")} > ${t.ancestorTitles.join(" > ")} > ${t.title}`;
      if (t.status === "passed") passed++;
      else {
        failed++;
        const why = (t.failureMessages ?? []).join(" ").split("\n")[0]?.slice(0, 300) ?? "";
        console.log(`  ${t.status.toUpperCase()} ${name}\n      ${why}`);
      }
    }
  }
  console.log(`[compat ${env.name}] gradio ${version}: ${passed} passed, ${failed} failed`);
  summary.push(`gradio ${version}: ${passed} passed, ${failed} failed`);
  if (failed > 0 || run.status !== 0) allPassed = false;
}
console.log(`\ncompat summary:\n  ${summary.join("\n  ")}`);
process.exit(allPassed ? 0 : 1);
