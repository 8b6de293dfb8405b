#!/usr/bin/env node
/* global process, console, fetch, setTimeout, clearTimeout, setInterval, AbortSignal */
// `npm start`: the embedded default. Builds the SDK and the gateway, starts the stand-in
// CosyVoice web UI (by default the Fun-CosyVoice3 English UI, which has every CosyVoice3 mode:
// zero-shot clone, cross-lingual, instruct) and the gateway in front of it, prints where they
// are, logs one line per request, and stops both on Ctrl-C / SIGTERM with exit code 0.
//
//   npm start -- --variant official --model cosyvoice1 --port 5001 --standin-port 7861
//   npm start -- --backend fastapi      (CosyVoice's official FastAPI server instead of a web UI)
//
// Run `npm start -- --help` for every flag; each has an environment variable too.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const HELP = `npm start -- [flags]   (or: node scripts/start-embedded.mjs [flags])

  --backend gradio|fastapi|grpc|openai
                              the kind of stand-in server (env STANDIN_BACKEND; default gradio:
                              a web UI; fastapi: CosyVoice's official FastAPI server; grpc: its
                              gRPC server; openai: a vLLM-Omni-shaped /v1/audio/speech)
  --variant cv3-en|official   the stand-in web UI (gradio only) (env STANDIN_VARIANT; default cv3-en: the
                              Fun-CosyVoice3 UI with clone, cross-lingual and instruct)
  --model cosyvoice3|cosyvoice2|cosyvoice1
                              the model the UI runs (env COSYVOICE_MODEL; default cosyvoice3;
                              cv3-en runs cosyvoice3 only; built-in speakers need cosyvoice1)
  --port N                    the gateway's port (env PORT; default 5000)
  --standin-port N            the stand-in's port (env STANDIN_PORT; default 7860)
  --production-limits         the gateway's own rate limits (env PRODUCTION_LIMITS=1; RATE_LIMIT_*
                              set them); by default npm start lifts them for exploring, and
                              its banner says which limits are in force
  --relaxed-limits            (the default) no rate limits to speak of, for local development
  --json-logs                 the gateway's raw JSON log lines instead of one line per request
  --no-build                  skip building the SDK and the gateway (built only when a source changed)
  -h, --help                  this text

Data (saved voices, audio) lives in .data/gateway (env DATA_DIR), as for the gateway alone.`;

function fail(message) {
  console.error(`start: ${message}`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      backend: { type: "string", default: process.env.STANDIN_BACKEND ?? "gradio" },
      variant: { type: "string", default: process.env.STANDIN_VARIANT ?? "cv3-en" },
      model: { type: "string", default: process.env.COSYVOICE_MODEL ?? "cosyvoice3" },
      port: { type: "string", default: process.env.PORT ?? "5000" },
      "standin-port": { type: "string", default: process.env.STANDIN_PORT ?? "7860" },
      "relaxed-limits": { type: "boolean", default: false },
      "production-limits": { type: "boolean", default: ["1", "true", "yes"].includes(process.env.PRODUCTION_LIMITS ?? "") },
      "json-logs": { type: "boolean", default: false },
      build: { type: "boolean", default: true },
      "no-build": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  }));
} catch (err) {
  fail(`${err.message}\n\n${HELP}`);
}
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
if (!["gradio", "fastapi", "grpc", "openai"].includes(args.backend)) fail(`--backend must be gradio, fastapi, grpc or openai, not ${JSON.stringify(args.backend)}`);
const gradio = args.backend === "gradio";
if (!["cv3-en", "official"].includes(args.variant)) fail(`--variant must be cv3-en or official, not ${JSON.stringify(args.variant)}`);
if (!["cosyvoice3", "cosyvoice2", "cosyvoice1"].includes(args.model)) fail(`--model must be cosyvoice3, cosyvoice2 or cosyvoice1, not ${JSON.stringify(args.model)}`);
if (gradio && args.variant === "cv3-en" && args.model !== "cosyvoice3") fail(`the cv3-en UI runs CosyVoice3 only; for ${args.model} use --variant official`);
for (const name of ["port", "standin-port"]) {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) fail(`--${name} must be a port number, not ${JSON.stringify(args[name])}`);
}
if (args.port === args["standin-port"]) fail("--port and --standin-port must differ");

const STANDIN_URL = `http://127.0.0.1:${args["standin-port"]}`;
// How the gateway names the box (its kind by scheme) and how this script sees it answer.
const BACKEND = {
  gradio: { url: `gradio+${STANDIN_URL}`, ready: "/config" },
  fastapi: { url: `fastapi+${STANDIN_URL}`, ready: "/openapi.json" },
  grpc: { url: `grpc://127.0.0.1:${args["standin-port"]}`, ready: undefined },
  openai: { url: `openai+${STANDIN_URL}/v1`, ready: "/health" },
}[args.backend];
const GATEWAY_URL = `http://127.0.0.1:${args.port}`;
const python = process.env.STANDIN_PYTHON ?? join(ROOT, "apps/standin/.venv/bin/python");

async function answers(url, headers = {}) {
  try {
    return (await fetch(url, { headers, signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

if (!existsSync(python)) fail(`no Python for the stand-in at ${python}; run \`npm run setup\` first`);
if (await answers(`${STANDIN_URL}${BACKEND.ready ?? "/"}`)) fail(`port ${args["standin-port"]} is already serving something; stop it first or pass --standin-port`);
if (await answers(`${GATEWAY_URL}/healthz`)) fail(`port ${args.port} is already serving something; stop it first or pass --port`);

if (args.build && !args["no-build"]) {
  // Only when a source is newer than its build (scripts/build-if-stale.mjs); its output is shown
  // only when it fails.
  const build = spawnSync(process.execPath, [join(ROOT, "scripts/build-if-stale.mjs"), "cosyvoice3-gateway...", "packages/sdk", "apps/gateway"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (build.status !== 0) fail(`the build failed:\n${build.stdout}${build.stderr}`);
}

const time = (t) => new Date(t ?? Date.now()).toTimeString().slice(0, 8);
const LEVELS = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
const SKIP = new Set(["level", "time", "service", "pid", "hostname", "msg", "req", "res", "responseTime", "err", "v"]);
const scalar = (v) => (typeof v === "string" ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v));

/** One human line for one of the gateway's pino JSON lines. */
function humanLine(line) {
  let o;
  try {
    o = JSON.parse(line);
  } catch {
    return line;
  }
  if (o.req && o.res) {
    if (o.req.headers?.["x-start-probe"]) return undefined; // this script's own look for a playground
  }
  if (o.msg === "Swagger UI") return undefined; // the banner below says it
  if (o.req && o.res) {
    const ms = typeof o.responseTime === "number" ? (o.responseTime >= 1000 ? `${(o.responseTime / 1000).toFixed(1)} s` : `${Math.round(o.responseTime)} ms`) : "";
    return `${time(o.time)}  ${o.req.method} ${o.req.url} -> ${o.res.statusCode}  ${ms}`;
  }
  const extra = Object.entries(o)
    .filter(([k, v]) => !SKIP.has(k) && v !== undefined && (typeof v !== "object" || v === null || Object.keys(v).length <= 4))
    .map(([k, v]) => `${k}=${typeof v === "object" && v !== null ? Object.entries(v).map(([a, b]) => `${a}:${scalar(b)}`).join(",") : scalar(v)}`)
    .join(" ");
  const err = o.err?.message ? `  (${o.err.type ?? "Error"}: ${o.err.message})` : "";
  return `${time(o.time)}  ${o.level >= 40 ? LEVELS[o.level] + " " : ""}${o.msg ?? ""}${extra ? "  " + extra : ""}${err}`;
}

/** Writes a child's lines through `map` (undefined drops a line). */
function relay(stream, out, map) {
  createInterface({ input: stream }).on("line", (line) => {
    const shown = map(line);
    if (out.destroyed) return;
    if (shown !== undefined) out.write(shown + "\n");
  });
}

const children = [];
let stopping = false;
function stopAll(code) {
  if (stopping) return;
  stopping = true;
  // The gateway first, so it can finish or cancel its jobs while the stand-in still answers.
  const [standin, gateway] = children;
  const alive = (c) => c && c.exitCode === null && c.signalCode === null;
  const waitExit = (c) => (alive(c) ? new Promise((r) => c.once("exit", r)) : Promise.resolve());
  const kill = (c, signal) => alive(c) && c.kill(signal);
  kill(gateway, "SIGTERM");
  const hard = setTimeout(() => children.forEach((c) => kill(c, "SIGKILL")), 40_000);
  waitExit(gateway)
    .then(() => {
      kill(standin, "SIGTERM");
      return waitExit(standin);
    })
    .then(() => {
      clearTimeout(hard);
      if (code === 0) console.log("start: stopped");
      process.exit(code);
    });
}

function run(name, command, argv, env, map) {
  // Its own process group: Ctrl-C reaches this script only, which stops the two in order.
  const child = spawn(command, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  relay(child.stdout, process.stdout, map);
  relay(child.stderr, process.stderr, map);
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`start: the ${name} exited (${signal ?? code}); stopping`);
      stopAll(code || 1);
    }
  });
  children.push(child);
  return child;
}

// `on`, not `once`: npm passes the terminal's Ctrl-C on as well, and a second SIGINT must not
// kill this script halfway through stopping the two servers.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => stopAll(0));
// Whatever ends this script ends the servers too (they are in their own process groups).
process.on("exit", () => children.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill("SIGKILL")));
// npm and pnpm do not always pass SIGTERM on: when the process that started us is gone (we
// were re-parented), stop both servers rather than leave them running.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stopAll(0);
}, 1000).unref();

const appArgs = [...(gradio ? ["--variant", args.variant] : ["--serve", args.backend]), "--model", args.model, "--port", args["standin-port"], "--quiet"];
// Under a test run that has the stand-in's fork server (packages/testkit/src/standin-zygote.ts,
// scripts/check-readme-examples.mjs), the same `app.py` is forked from it: gradio is imported once
// per run instead of once per start. Nobody sets STANDIN_ZYGOTE otherwise.
const zygote = process.env.STANDIN_ZYGOTE;
const viaZygote = zygote && zygote !== "off" && existsSync(zygote) && !process.env.STANDIN_PYTHON;
const standinArgs = viaZygote ? ["-S", join(ROOT, "apps/standin/fork_client.py"), zygote, ...appArgs] : [join(ROOT, "apps/standin/app.py"), ...appArgs];
run("stand-in", python, standinArgs, { GRADIO_ANALYTICS_ENABLED: "False", PYTHONUNBUFFERED: "1" }, (line) => `stand-in: ${line}`);
/** The stand-in answers as its kind does (gRPC speaks no HTTP/1.1: a TCP connect). */
const tcpOpen = (port) =>
  new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port: Number(port) });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
const standinUp = () => (BACKEND.ready ? answers(`${STANDIN_URL}${BACKEND.ready}`) : tcpOpen(args["standin-port"]));
for (let i = 0; !(await standinUp()); i++) {
  if (stopping) await new Promise(() => {});
  if (i > 600) {
    console.error("start: the stand-in did not answer within 60 s");
    stopAll(1);
    await new Promise(() => {});
  }
  await new Promise((r) => setTimeout(r, 100));
}

// Relaxed by default: npm start is for exploring on this machine, and a 429 there looks like a
// hang (the openai clients retry 429s silently, twice, with backoff). Production limits are one
// flag away, and the banner says which are in force either way.
if (args["relaxed-limits"] && args["production-limits"]) fail("--relaxed-limits and --production-limits are either-or");
const relaxed = args["production-limits"] ? {} : { RATE_LIMIT_SYNTHESIZE: "1000000", RATE_LIMIT_UPLOAD: "1000000", RATE_LIMIT_READ: "1000000" };
// No DATA_DIR here: the gateway's own default (.data/gateway where the command was run, see
// INIT_CWD in its main.ts) is the one folder whether it starts alone or through npm start.
const gatewayEnv = { COSYVOICE_URL: BACKEND.url, COSYVOICE_MODEL: args.model, PORT: args.port, INIT_CWD: process.env.INIT_CWD ?? ROOT, ...relaxed };
run(
  "gateway",
  process.execPath,
  // As the package's start script and the image launch it: young generation capped (RSS).
  ["--max-semi-space-size=4", join(ROOT, "apps/gateway/dist/main.js")],
  gatewayEnv,
  args["json-logs"] ? (line) => line : humanLine,
);
for (let i = 0; !(await answers(`${GATEWAY_URL}/healthz`)); i++) {
  if (stopping) await new Promise(() => {});
  if (i > 300) {
    console.error("start: the gateway did not answer within 30 s");
    stopAll(1);
    await new Promise(() => {});
  }
  await new Promise((r) => setTimeout(r, 100));
}
// The playground (a page for trying voices) is printed once the gateway serves one.
const playground = (await answers(`${GATEWAY_URL}/playground`, { "x-start-probe": "1" })) ? `${GATEWAY_URL}/playground` : undefined;
const modes = gradio
  ? { "cv3-en": "clone, cross-lingual, instruct", official: args.model === "cosyvoice1" ? "pretrained, clone, cross-lingual, instruct" : "clone, cross-lingual" }[args.variant]
  : args.backend === "openai"
    ? "clone"
    : args.model === "cosyvoice1"
      ? "pretrained, clone, cross-lingual, instruct"
      : args.backend === "grpc"
        ? "clone, cross-lingual"
        : "clone, cross-lingual, instruct (instruct2)";
/** The banner's rate-limit line: the limits the gateway read from the same environment. */
async function limitsLine() {
  const { loadConfig } = await import(pathToFileURL(join(ROOT, "apps/gateway/dist/index.js")).href);
  const { rateLimit: r } = loadConfig({ ...process.env, ...gatewayEnv }, gatewayEnv.INIT_CWD);
  const per = `per client per ${r.windowMs % 60_000 === 0 ? `${r.windowMs / 60_000} min` : `${r.windowMs / 1000} s`}`;
  if (!args["production-limits"]) return `relaxed for exploring (npm start's default; --production-limits for the gateway's own)`;
  return `${r.synthesize} syntheses, ${r.upload} uploads, ${r.read} reads ${per}; past them 429 with Retry-After (OpenAI clients retry 429s silently)`;
}

console.log(
  [
    "",
    `  CosyVoice3 gateway  ${GATEWAY_URL}`,
    `  Swagger UI          ${GATEWAY_URL}/docs`,
    playground ? `  playground          ${playground}` : null,
    `  capabilities        ${GATEWAY_URL}/capabilities`,
    gradio ? `  stand-in web UI     ${STANDIN_URL}   (${args.variant}, ${args.model}: ${modes})` : `  stand-in ${args.backend.padEnd(10)} ${BACKEND.url}   (${args.model}: ${modes})`,
    `  rate limits         ${await limitsLine()}`,
    "",
    "  Ctrl-C stops both.",
    "",
  ]
    .filter((l) => l !== null)
    .join("\n"),
);
