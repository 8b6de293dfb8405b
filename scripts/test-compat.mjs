#!/usr/bin/env node
/* global process, console */
// Runs the stand-in, SDK and gateway test projects against the newest gradio 5.x and 6.x
// environments (apps/standin/.venv-5x, .venv-6x, made by scripts/setup-compat.sh) and prints,
// per environment and project, which test passed and which failed. Exit code 0 only when all
// passed. The default `npm test` stays on gradio 5.4.0 (apps/standin/.venv), as CosyVoice pins it.
// Usage: node scripts/test-compat.mjs [5x|6x ...] [--project standin|sdk|gateway ...] [-- vitest file filters]
//   (inside `pnpm test:compat`, after setup). Tests read the gradio version from the stand-in
//   (StandinHandle.gradioVersion), so expectations that gradio legitimately changed are
//   version-aware; COMPAT_GRADIO is set for information only.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ALL_PROJECTS = ["standin", "sdk", "gateway"];

const args = process.argv.slice(2);
const dashdash = args.indexOf("--");
const filters = dashdash >= 0 ? args.slice(dashdash + 1) : [];
const own = dashdash >= 0 ? args.slice(0, dashdash) : args;
const envNames = [];
const projects = [];
for (let i = 0; i < own.length; i++) {
  if (own[i] === "--project") projects.push(own[++i]);
  else envNames.push(own[i]);
}
for (const p of projects) {
  if (!ALL_PROJECTS.includes(p)) {
    console.log(`unknown project ${p}; one of ${ALL_PROJECTS.join(", ")}`);
    process.exit(2);
  }
}
const envs = (envNames.length ? envNames : ["5x", "6x"]).map((v) => ({ name: v, python: join(ROOT, `apps/standin/.venv-${v}/bin/python`) }));
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
  // One project at a time (each starts its own Python stand-ins on a 2-core machine).
  for (const project of projects.length ? projects : ALL_PROJECTS) {
    const report = join(mkdtempSync(join(tmpdir(), "compat-")), "report.json");
    console.log(`[compat ${env.name}] gradio ${version}: running the ${project} test project`);
    const run = spawnSync(vitest, ["run", "--project", project, "--reporter=json", `--outputFile=${report}`, ...filters], {
      cwd: ROOT,
      env: { ...process.env, STANDIN_PYTHON: env.python, COMPAT_GRADIO: version },
      stdio: ["ignore", "ignore", "inherit"],
    });
    if (!existsSync(report)) {
      console.log(`[compat ${env.name}] ${project}: vitest produced no report (exit ${run.status})`);
      summary.push(`gradio ${version} ${project}: no report`);
      allPassed = false;
      continue;
    }
    const results = JSON.parse(readFileSync(report, "utf8"));
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const file of results.testResults) {
      for (const t of file.assertionResults) {
        const name = `${file.name.replace(`${ROOT}/`, "")} > ${t.ancestorTitles.join(" > ")} > ${t.title}`;
        if (t.status === "passed") passed++;
        else if (t.status === "skipped" || t.status === "pending" || t.status === "todo") skipped++;
        else {
          failed++;
          const why = (t.failureMessages ?? []).join(" ").split("\n")[0]?.slice(0, 300) ?? "";
          console.log(`  ${t.status.toUpperCase()} ${name}\n      ${why}`);
        }
      }
      if (file.status === "failed" && file.assertionResults.length === 0) {
        failed++;
        console.log(`  FAILED ${file.name.replace(`${ROOT}/`, "")}: ${String(file.message ?? "").split("\n")[0]}`);
      }
    }
    const line = `gradio ${version} ${project}: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`;
    console.log(`[compat ${env.name}] ${line}`);
    summary.push(line);
    if (failed > 0 || run.status !== 0) allPassed = false;
  }
}
console.log(`\ncompat summary:\n  ${summary.join("\n  ")}`);
process.exit(allPassed ? 0 : 1);
