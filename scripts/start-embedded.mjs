#!/usr/bin/env node
/* global process, console, fetch, setTimeout, clearTimeout, setInterval, AbortSignal */
// `npm start`: the embedded default. Builds the SDK and the gateway, starts the stand-in
// CosyVoice web UI on 127.0.0.1:7860 and the gateway on its defaults (port 5000, data under
// .data/gateway), prints the Swagger URL, and stops both on Ctrl-C / SIGTERM.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const STANDIN_PORT = 7860;
const STANDIN_URL = `http://127.0.0.1:${STANDIN_PORT}`;
const python = process.env.STANDIN_PYTHON ?? join(ROOT, "apps/standin/.venv/bin/python");

function fail(message) {
  console.error(`start: ${message}`);
  process.exit(1);
}

async function answers(url) {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

if (!existsSync(python)) fail(`no Python for the stand-in at ${python}; run \`npm run setup\` first`);
if (await answers(`${STANDIN_URL}/config`)) fail(`port ${STANDIN_PORT} is already serving something; stop it first`);

console.log("start: building the SDK and the gateway ...");
const build = spawnSync("bash", [join(ROOT, "scripts/with-pnpm.sh"), "--filter", "cosyvoice3-gateway...", "run", "build"], {
  cwd: ROOT,
  stdio: ["ignore", "inherit", "inherit"],
});
if (build.status !== 0) fail("the build failed");

const children = [];
let stopping = false;
function stopAll(code) {
  if (stopping) return;
  stopping = true;
  // The gateway first, so it can finish or cancel its jobs while the stand-in still answers.
  const [standin, gateway] = children;
  const waitExit = (c) => (c && c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : Promise.resolve());
  const kill = (c, signal) => c && c.exitCode === null && c.signalCode === null && c.kill(signal);
  kill(gateway, "SIGTERM");
  const hard = setTimeout(() => children.forEach((c) => kill(c, "SIGKILL")), 40_000);
  waitExit(gateway)
    .then(() => {
      kill(standin, "SIGTERM");
      return waitExit(standin);
    })
    .then(() => {
      clearTimeout(hard);
      process.exit(code);
    });
}

function run(name, command, args, env) {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit"] });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`start: the ${name} exited (${signal ?? code}); stopping`);
      stopAll(code || 1);
    }
  });
  children.push(child);
  return child;
}

process.once("SIGINT", () => stopAll(0));
process.once("SIGTERM", () => stopAll(0));
process.once("SIGHUP", () => stopAll(0));
// pnpm and npm do not always pass SIGTERM on to the script they run: when the process that
// started us is gone (we were re-parented), stop both servers rather than leave them running.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stopAll(0);
}, 1000).unref();

run("stand-in", python, [join(ROOT, "apps/standin/app.py"), "--port", String(STANDIN_PORT)], {
  GRADIO_ANALYTICS_ENABLED: "False",
  PYTHONUNBUFFERED: "1",
});
for (let i = 0; !(await answers(`${STANDIN_URL}/config`)); i++) {
  if (stopping) await new Promise(() => {});
  if (i > 600) {
    console.error("start: the stand-in did not answer within 60 s");
    stopAll(1);
    await new Promise(() => {});
  }
  await new Promise((r) => setTimeout(r, 100));
}

const port = process.env.PORT ?? "5000";
run("gateway", process.execPath, [join(ROOT, "apps/gateway/dist/main.js")], {
  COSYVOICE_URL: STANDIN_URL,
  PORT: port,
  DATA_DIR: process.env.DATA_DIR ?? join(ROOT, ".data/gateway"),
});
for (let i = 0; !(await answers(`http://127.0.0.1:${port}/healthz`)); i++) {
  if (stopping) await new Promise(() => {});
  if (i > 300) {
    console.error("start: the gateway did not answer within 30 s");
    stopAll(1);
    await new Promise(() => {});
  }
  await new Promise((r) => setTimeout(r, 100));
}
console.log(`\n  CosyVoice3 gateway: http://127.0.0.1:${port}\n  Swagger UI:         http://127.0.0.1:${port}/docs\n  stand-in web UI:    ${STANDIN_URL}\n\n  Ctrl-C stops both.\n`);
