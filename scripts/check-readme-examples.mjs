#!/usr/bin/env node
/* global process, console, fetch, setTimeout, AbortSignal */
// Runs the READMEs' shell examples as written against `npm start` and checks every curl's
// status: a block whose first line is `# against: npm start [-- flags]` runs (with the other
// blocks of the same flags, in README order, in one bash session in a temp dir) against
// `node scripts/start-embedded.mjs <flags>`; each curl must answer the status of the
// `# -> NNN` comment after it (on its line or the next), else a 2xx. It also counts the
// warnings the servers printed.
//
//   node scripts/check-readme-examples.mjs [--port 5000] [--standin-port 7860] [--no-build]
//
// It binds the ports npm start uses (5000 and 7860 by default): not for parallel test runs.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const READMES = ["README.md", "apps/gateway/README.md", "packages/sdk/README.md"];
const { values: opts } = parseArgs({
  options: { port: { type: "string", default: "5000" }, "standin-port": { type: "string", default: "7860" }, "no-build": { type: "boolean", default: false } },
});

/** The README blocks to run, grouped by the npm start flags they need. */
function blocks() {
  const groups = new Map();
  for (const file of READMES) {
    const text = readFileSync(join(ROOT, file), "utf8");
    for (const m of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
      const body = m[1] ?? "";
      const head = /^# against: npm start(?: -- (.*))?\n/.exec(body);
      if (!head) continue;
      const flags = (head[1] ?? "").trim();
      const line = text.slice(0, m.index).split("\n").length + 1;
      if (!groups.has(flags)) groups.set(flags, []);
      groups.get(flags).push({ file, line, body: body.slice(head[0].length) });
    }
  }
  return groups;
}

/** The curls of a script in order, each with the status its comment expects (undefined: any 2xx). */
function expectations(body) {
  const lines = body.replace(/\\\n/g, " ").split("\n");
  const out = [];
  lines.forEach((line, i) => {
    if (/^\s*#/.test(line)) return;
    const calls = line.match(/(^|\$\(|;|&&|\|)\s*curl\s/g) ?? [];
    if (calls.length === 0) return;
    const same = /#\s*->\s*(\d{3})/.exec(line);
    const next = /^\s*#\s*->\s*(\d{3})/.exec(lines[i + 1] ?? "");
    const status = same?.[1] ?? next?.[1];
    for (let k = 0; k < calls.length; k++) out.push({ command: line.trim().slice(0, 110), expected: status ? Number(status) : undefined });
  });
  return out;
}

async function waitFor(url, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return true;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

const realCurl = spawnSync("bash", ["-c", "command -v curl"], { encoding: "utf8" }).stdout.trim();
if (!realCurl) {
  console.error("check-readme-examples: curl is not installed");
  process.exit(2);
}

let failures = 0;
let warnings = 0;
let first = true;
for (const [flags, list] of blocks()) {
  const work = mkdtempSync(join(tmpdir(), "readme-examples-"));
  // A curl that also reports its status on stderr, so $(curl ...) captures stay as written.
  const shim = join(work, "bin");
  spawnSync("mkdir", ["-p", shim]);
  writeFileSync(join(shim, "curl"), `#!/usr/bin/env bash\nexec ${realCurl} -w '%{stderr}@@status %{http_code}\\n' "$@"\n`);
  chmodSync(join(shim, "curl"), 0o755);

  const argv = [join(ROOT, "scripts/start-embedded.mjs"), ...(flags ? flags.split(/\s+/) : []), "--port", opts.port, "--standin-port", opts["standin-port"]];
  if (opts["no-build"] || !first) argv.push("--no-build");
  first = false;
  console.log(`\n== npm start${flags ? " -- " + flags : ""}  (${list.length} block(s))`);
  const server = spawn(process.execPath, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: false });
  let log = "";
  server.stdout.on("data", (b) => (log += b));
  server.stderr.on("data", (b) => (log += b));
  try {
    if (!(await waitFor(`http://127.0.0.1:${opts.port}/readyz`, 240_000))) throw new Error(`npm start did not get ready:\n${log}`);
    const script = list.map((b) => b.body).join("\n");
    const run = spawnSync("bash", ["-o", "pipefail", "-c", script], {
      cwd: work,
      env: { ...process.env, PATH: `${shim}:${process.env.PATH}` },
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      timeout: 300_000,
    });
    const statuses = [...run.stderr.matchAll(/@@status (\d{3})/g)].map((m) => Number(m[1]));
    const expected = expectations(script);
    if (statuses.length !== expected.length) {
      failures++;
      console.log(`  ran ${statuses.length} curl(s), the blocks have ${expected.length}; bash exited ${run.status}\n${run.stderr.replace(/@@status \d{3}\n/g, "")}`);
    }
    expected.forEach((e, i) => {
      const got = statuses[i];
      const ok = got !== undefined && (e.expected === undefined ? got >= 200 && got < 300 : got === e.expected);
      if (!ok) failures++;
      console.log(`  ${ok ? "ok  " : "FAIL"} ${String(got ?? "---")} ${e.expected ? `(want ${e.expected})` : "(want 2xx)"}  ${e.command}`);
    });
    if (run.status !== 0) {
      failures++;
      console.log(`  FAIL the blocks' shell exited ${run.status}: ${run.stderr.replace(/@@status \d{3}\n/g, "").slice(-2000)}`);
    }
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    const w = log.split("\n").filter((l) => /Warning/.test(l)).length;
    warnings += w;
    console.log(`  server output: ${log.split("\n").length} lines, ${w} warning line(s)`);
    rmSync(work, { recursive: true, force: true });
  }
}
console.log(`\n${failures === 0 ? "all README examples answered as documented" : `${failures} failure(s)`}; warnings printed by the servers: ${warnings}`);
process.exit(failures === 0 ? 0 : 1);
