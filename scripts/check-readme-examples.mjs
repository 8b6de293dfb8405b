#!/usr/bin/env node
/* global process, console, fetch, setTimeout, clearTimeout, AbortSignal */
// Runs every shell block of every README as written, and fails on a block it neither runs nor
// was told why not to. Part of `npm test` (scripts/test-all.mjs). A block says how it runs by its
// first line or by an HTML comment on the line before its fence:
//
//   # against: npm start [-- flags]          (first line) or  <!-- readme-check: against npm start [-- flags] -->
//     The block runs in one bash session (errexit, pipefail) against `npm start -- flags`, with
//     the other blocks of the same flags, in README order, in a fresh folder inside the
//     repository (so `npm run ...` works; `me.wav` is there for blocks that use one). Each curl
//     must answer the status of the `# -> NNN` comment after it (on its line or the next), else
//     a 2xx.
//   <!-- readme-check: starts -->
//     Each command line starts a server (`npm start ...`, `npm run gateway`, `npm run standin ...`):
//     it runs until its port answers (/healthz, or /config for a stand-in), then is stopped.
//     Hosts of the examples (`gpu-box:7860`, `gpu-1:50000`, ...) point at a running stand-in,
//     `redis://cache:6379` at a throwaway redis-server.
//   <!-- readme-check: skip: <reason> -->
//     Not run (e.g. Docker or systemd on a GPU box); the reason is printed.
//
// Ports: the examples' own (5000, 7860, 5001, 7861) are replaced by free ones, so the check
// runs next to the tests and next to a developer's `npm start`. It also checks that no README
// tells a fresh machine to run `pnpm ...` (it has only Node.js and npm) and that every
// `npm run X` it names is a root script.
//
//   node scripts/check-readme-examples.mjs [--no-build] [--only README.md]
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const READMES = ["README.md", "apps/gateway/README.md", "packages/sdk/README.md", "packages/client/README.md", "packages/cli/README.md", "deploy/README.md", "apps/standin/README.md"];
const { values: opts } = parseArgs({
  options: { "no-build": { type: "boolean", default: false }, "free-ports": { type: "boolean", default: true }, only: { type: "string" } },
});
const readmes = opts.only ? READMES.filter((f) => f === opts.only) : READMES;

/** Every fenced shell block, with how it runs. */
function parse() {
  const blocks = [];
  for (const file of readmes) {
    const text = readFileSync(join(ROOT, file), "utf8");
    for (const m of text.matchAll(/^```(sh|bash|shell)\n([\s\S]*?)^```/gm)) {
      let body = m[2] ?? "";
      const line = text.slice(0, m.index).split("\n").length;
      const before = text.slice(0, m.index).trimEnd().split("\n").at(-1) ?? "";
      const comment = /^<!--\s*readme-check:\s*(.*?)\s*-->$/.exec(before.trim())?.[1];
      const first = /^# against: (npm start(?: -- .*)?)\n/.exec(body);
      let mode;
      let flags = "";
      let reason = "";
      if (first) {
        mode = "against";
        flags = first[1].replace(/^npm start(?: -- )?/, "").trim();
        body = body.slice(first[0].length);
      } else if (comment?.startsWith("against ")) {
        mode = "against";
        flags = comment.replace(/^against npm start(?: -- )?/, "").trim();
      } else if (comment === "starts") mode = "starts";
      else if (comment?.startsWith("skip:")) {
        mode = "skip";
        reason = comment.slice(5).trim();
      }
      blocks.push({ file, line, mode, flags, reason, body });
    }
  }
  return blocks;
}

/** Static checks: no `pnpm` a fresh machine lacks; every `npm run X` exists. */
function staticProblems() {
  const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts;
  const problems = [];
  for (const file of readmes) {
    const text = readFileSync(join(ROOT, file), "utf8");
    // deploy/README.md describes the images' build steps, where pnpm is installed: only its
    // shell blocks count there.
    const inBlock = new Set();
    for (const m of text.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)) {
      const first = text.slice(0, m.index).split("\n").length;
      for (let k = 0; k < (m[1] ?? "").split("\n").length; k++) inBlock.add(first + k);
    }
    text.split("\n").forEach((l, i) => {
      if (file === "deploy/README.md" && !inBlock.has(i)) return;
      // A command line, a table cell or inline code that starts with pnpm (not the wrapper, not the word).
      if (/(^|`|\|\s*|&&\s*|;\s*)pnpm\s+(-[a-z]\s+)?[a-z][\w:-]*/.test(l) && !/with-pnpm\.sh/.test(l.slice(0, l.search(/pnpm\s/) + 1))) {
        problems.push(`${file}:${i + 1}: a pnpm command (a fresh machine has only npm; use an npm run script): ${l.trim().slice(0, 120)}`);
      }
      for (const m of l.matchAll(/npm run (?:-s )?(\w[\w:-]*)/g)) {
        if (!(m[1] in scripts)) problems.push(`${file}:${i + 1}: npm run ${m[1]}: no such script in package.json`);
      }
    });
  }
  return problems;
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

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Wall and CPU seconds (this process and the children it has reaped) since `from`, as "12.3 s, CPU 4.5 s". */
const CLK_TCK = 100;
function clock() {
  // /proc/self/stat after the command name: state is field 3; utime, stime, cutime, cstime are 14-17.
  const f = existsSync("/proc/self/stat") ? readFileSync("/proc/self/stat", "utf8").replace(/^.*\) /, "").split(" ") : [];
  const ticks = f.length > 14 ? [11, 12, 13, 14].reduce((sum, i) => sum + Number(f[i]), 0) : NaN;
  return { wall: Date.now(), cpu: ticks / CLK_TCK };
}
const since = (from) => {
  const now = clock();
  return `${((now.wall - from.wall) / 1000).toFixed(1)} s${Number.isNaN(now.cpu) ? "" : `, CPU ${(now.cpu - from.cpu).toFixed(1)} s`}`;
};

async function waitFor(url, ms, alive = () => true) {
  const until = Date.now() + ms;
  while (Date.now() < until && alive()) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return true;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Starts a command line in its own process group; output kept for failures. */
function background(command, env, cwd) {
  const child = spawn("bash", ["-c", command], { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let log = "";
  child.stdout.on("data", (b) => (log = (log + b).slice(-20_000)));
  child.stderr.on("data", (b) => (log = (log + b).slice(-20_000)));
  running.add(child.pid);
  const exited = new Promise((r) => child.once("exit", r));
  void exited.then(() => running.delete(child.pid));
  return {
    log: () => log,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // gone
      }
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // gone
        }
      }, 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Starts apps/standin/zygote.py; undefined (stand-ins start on their own) when it cannot. */
async function startZygote() {
  const python = process.env.STANDIN_PYTHON ?? join(ROOT, "apps/standin/.venv/bin/python");
  if (process.env.STANDIN_ZYGOTE === "off" || process.env.STANDIN_PYTHON || !existsSync(python)) return undefined;
  const socket = join(mkdtempSync(join(tmpdir(), "standin-zygote-")), "sock");
  // Its stdin stays open while this check runs: when the check dies, the zygote sees EOF and ends,
  // killing the stand-ins it forked. It has a process group of its own, so a signal to the
  // check's group (Ctrl-C, a CI timeout, npm test stopped) reaches the check and not the zygote:
  // killed by a signal, the zygote would leave its stand-ins running.
  const child = spawn(python, [join(ROOT, "apps/standin/zygote.py"), socket], {
    cwd: ROOT,
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, GRADIO_ANALYTICS_ENABLED: "False", PYTHONUNBUFFERED: "1" },
  });
  child.stderr.resume();
  const ready = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 120_000);
    child.stdout.on("data", (b) => {
      if (String(b).includes("ready")) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!ready) {
    child.kill("SIGKILL");
    return undefined;
  }
  child.stdout.resume();
  return {
    socket,
    stop: () => {
      const exited = new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
      child.stdin.end();
      return exited;
    },
  };
}

const realCurl = spawnSync("bash", ["-c", "command -v curl"], { encoding: "utf8" }).stdout.trim();
if (!realCurl) {
  console.error("check-readme-examples: curl is not installed");
  process.exit(2);
}

// Servers still running when the check is interrupted (Ctrl-C, a CI timeout) are stopped.
const running = new Set();
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.once(sig, () => {
    for (const pid of running) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    process.exit(130);
  });
}

let failures = 0;
const fail = (msg) => {
  failures++;
  console.log(`  FAIL ${msg}`);
};
const blocks = parse();
console.log(`README check: ${blocks.length} shell block(s) in ${readmes.length} README(s)`);
for (const p of staticProblems()) fail(p);
for (const b of blocks.filter((b) => b.mode === undefined)) {
  fail(`${b.file}:${b.line}: a shell block that is neither run nor skipped with a reason (see scripts/check-readme-examples.mjs)`);
}
for (const b of blocks.filter((b) => b.mode === "skip")) console.log(`  skip ${b.file}:${b.line}: ${b.reason}`);

// The examples' ports, each mapped to a free one for this run.
const portMap = new Map();
for (const p of ["5000", "5001", "7860", "7861"]) portMap.set(p, String(await freePort()));
const GW_PORT = portMap.get("5000");
const UI_PORT = portMap.get("7860");
const withPorts = (s) => s.replace(/(127\.0\.0\.1:|localhost:|--port |--standin-port |:)(5000|5001|7860|7861)\b/g, (_, pre, p) => `${pre}${portMap.get(p)}`);

// A place inside the repository (npm run finds the root package.json from there).
const scratch = join(ROOT, ".test-tmp");
mkdirSync(scratch, { recursive: true });
const shim = mkdtempSync(join(scratch, "readme-bin-"));
// A curl that also reports its status on stderr, so $(curl ...) captures stay as written.
writeFileSync(join(shim, "curl"), `#!/usr/bin/env bash\nexec ${realCurl} -w '%{stderr}@@status %{http_code}\\n' "$@"\n`);
chmodSync(join(shim, "curl"), 0o755);
// No speakers on a CI machine (a real ffplay there waits on a sound card that is not there):
// ffplay checks that what it was given is audio.
{
  writeFileSync(join(shim, "ffplay"), `#!/usr/bin/env bash\n# readme check: stands in for ffplay; the input must decode as audio\nffprobe -v error -show_entries stream=codec_type -of csv=p=0 "\${@: -1}" | grep -q audio\n`);
  chmodSync(join(shim, "ffplay"), 0o755);
}
// The stand-in's fork server (apps/standin/zygote.py), as the tests use it: every stand-in the
// examples start (npm start, npm run standin, the hosts they name) is the same app.py forked from
// it, so gradio is imported once per check instead of about ten times; so is a command that
// starts `python apps/standin/app.py` itself (STANDIN_ZYGOTE_APP: app.py hands itself to the
// fork server).
const checkStart = clock();
const zygote = await startZygote();
console.log(`  (the stand-in zygote: ${since(checkStart)})`);
const baseEnv = { ...process.env, PATH: `${shim}:${process.env.PATH}`, PORT: GW_PORT, STANDIN_PORT: UI_PORT, COSYVOICE_GATEWAY: `http://127.0.0.1:${GW_PORT}` };
if (zygote) Object.assign(baseEnv, { STANDIN_ZYGOTE: zygote.socket, STANDIN_ZYGOTE_APP: "1" });
delete baseEnv.INIT_CWD;
delete baseEnv.npm_config_prefix;

async function npmStart(flags) {
  const argv = ["npm", "start", "--", ...(flags ? flags.split(/\s+/) : []), "--port", GW_PORT, "--standin-port", UI_PORT];
  if (opts["no-build"] || npmStart.built) argv.push("--no-build");
  npmStart.built = true;
  // A fresh user's data folder: no voices left from an earlier run (the examples clone by name).
  const server = background(argv.join(" "), { ...baseEnv, DATA_DIR: mkdtempSync(join(scratch, "readme-data-")) }, ROOT);
  if (!(await waitFor(`http://127.0.0.1:${GW_PORT}/readyz`, 240_000, server.alive))) {
    await server.stop();
    throw new Error(`npm start${flags ? " -- " + flags : ""} did not get ready:\n${server.log().slice(-4000)}`);
  }
  return server;
}

// 1. Blocks run against npm start, grouped by flags.
const groups = new Map();
for (const b of blocks.filter((b) => b.mode === "against")) {
  if (!groups.has(b.flags)) groups.set(b.flags, []);
  groups.get(b.flags).push(b);
}
for (const [flags, list] of groups) {
  const work = mkdtempSync(join(scratch, "readme-examples-"));
  // A voice to clone for blocks that bring none of their own.
  spawnSync("espeak-ng", ["-w", join(work, "me.wav"), "Hello, this is my voice. I am reading a few sentences for the prompt."]);
  console.log(`\n== npm start${flags ? " -- " + flags : ""}  (${list.map((b) => `${b.file}:${b.line}`).join(", ")})`);
  let server;
  const t = clock();
  try {
    server = await npmStart(flags);
    console.log(`  (npm start ready: ${since(t)})`);
    // A web UI the examples name (`--ui http://gpu-box:7860`) is npm start's stand-in.
    const script = withPorts(list.map((b) => b.body).join("\n")).replace(/http:\/\/(gpu-box|gpu-\d+):\d+/g, `http://127.0.0.1:${UI_PORT}`);
    const tScript = clock();
    const run = spawnSync("bash", ["-e", "-o", "pipefail", "-c", script], { cwd: work, env: baseEnv, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
    const statuses = [...run.stderr.matchAll(/@@status (\d{3})/g)].map((m) => Number(m[1]));
    const expected = expectations(script);
    const stderr = run.stderr.replace(/@@status \d{3}\n/g, "");
    if (run.status !== 0) fail(`the blocks' shell exited ${run.status ?? run.signal}: ${stderr.slice(-3000)}`);
    else if (statuses.length !== expected.length) fail(`ran ${statuses.length} curl(s), the blocks have ${expected.length}\n${stderr.slice(-3000)}`);
    else console.log(`  (the blocks' shell: ${since(tScript)})`);
    if (run.status === 0 && statuses.length === expected.length) console.log(`  ok   ${script.split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("#")).length} line(s) ran, the shell exited 0`);
    expected.forEach((e, i) => {
      const got = statuses[i];
      const ok = got !== undefined && (e.expected === undefined ? got >= 200 && got < 300 : got === e.expected);
      if (ok) console.log(`  ok   ${got} ${e.expected ? `(want ${e.expected})` : "(want 2xx)"}  ${e.command}`);
      else fail(`${String(got ?? "---")} ${e.expected ? `(want ${e.expected})` : "(want 2xx)"}  ${e.command}`);
    });
  } catch (err) {
    fail(err.message);
  } finally {
    const tStop = clock();
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
    console.log(`  (stopped: ${since(tStop)}; the group: ${since(t)})`);
  }
}

// 2. Blocks whose lines start servers: each runs until it answers, pointed at one stand-in.
const starts = blocks.filter((b) => b.mode === "starts");
const tServers = clock();
if (starts.length > 0) {
  console.log(`\n== servers (${starts.map((b) => `${b.file}:${b.line}`).join(", ")})`);
  const uiPort = String(await freePort());
  const ui = background(`bash scripts/standin.sh --variant cv3-en --model cosyvoice3 --port ${uiPort} --quiet`, baseEnv, ROOT);
  const extra = [];
  let redis;
  try {
    if (!(await waitFor(`http://127.0.0.1:${uiPort}/config`, 120_000, ui.alive))) throw new Error(`the stand-in did not start:\n${ui.log()}`);
    const redisPort = String(await freePort());
    const boxes = new Map();
    const extraBox = async () => {
      const port = String(await freePort());
      const box = background(`bash scripts/standin.sh --variant cv3-en --model cosyvoice3 --port ${port} --quiet`, baseEnv, ROOT);
      extra.push(box);
      if (!(await waitFor(`http://127.0.0.1:${port}/config`, 120_000, box.alive))) throw new Error(`a stand-in did not start:\n${box.log()}`);
      return port;
    };
    for (const b of starts) {
      const commands = b.body.replace(/\\\n\s*/g, " ").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
      for (const raw of commands) {
        // Each host the example names is a box of its own (a gateway refuses a URL listed twice).
        for (const h of new Set([...raw.matchAll(/http:\/\/(gpu-box|gpu-\d+):\d+/g)].map((m) => m[1]))) {
          if (!boxes.has(h)) boxes.set(h, boxes.size === 0 ? uiPort : await extraBox());
        }
        const line = withPorts(raw)
          .replace(/http:\/\/(gpu-box|gpu-\d+):\d+/g, (_, h) => `http://127.0.0.1:${boxes.get(h)}`)
          .replace(/redis:\/\/cache:6379/g, `redis://127.0.0.1:${redisPort}`)
          .replace(/\s+#.*$/, "");
        if (/redis:\/\/127/.test(line) && !redis) {
          redis = background(`redis-server --port ${redisPort} --bind 127.0.0.1 --save '' --appendonly no`, baseEnv, ROOT);
        }
        const standin = /npm run standin|app\.py/.test(line);
        const port = /--port (\d+)/.exec(line)?.[1] ?? (standin ? "7860" : GW_PORT);
        const url = `http://127.0.0.1:${port}${standin ? "/config" : "/healthz"}`;
        const started = Date.now();
        const server = background(line, { ...baseEnv, DATA_DIR: mkdtempSync(join(scratch, "readme-data-")) }, ROOT);
        const ok = await waitFor(url, 240_000, server.alive);
        const answered = Date.now();
        await server.stop();
        if (ok) console.log(`  ok   ${url} answered after ${((answered - started) / 1000).toFixed(1)} s, stopped in ${((Date.now() - answered) / 1000).toFixed(1)} s  ${raw.slice(0, 100)}`);
        else fail(`${b.file}:${b.line}: ${raw.slice(0, 100)}: ${url} never answered\n${server.log().slice(-3000)}`);
      }
    }
  } catch (err) {
    fail(err.message);
  } finally {
    await Promise.all([ui.stop(), ...extra.map((b) => b.stop())]);
    await redis?.stop();
  }
}

if (starts.length > 0) console.log(`  (the servers: ${since(tServers)})`);
const tZygote = clock();
await zygote?.stop();
console.log(`  (the zygote stopped, its stand-ins' CPU now counted: ${since(tZygote)})`);
rmSync(shim, { recursive: true, force: true });
for (const d of ["readme-data-"]) spawnSync("bash", ["-c", `rm -rf ${JSON.stringify(scratch)}/${d}*`]);
console.log(`\n(the whole check: ${since(checkStart)}, servers' CPU included)`);
console.log(`\n${failures === 0 ? "every README block ran as documented" : `${failures} failure(s)`}`);
process.exit(failures === 0 ? 0 : 1);
