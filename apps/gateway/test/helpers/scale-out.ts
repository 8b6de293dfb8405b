/**
 * The scale-out stack as separate processes: 2-3 gateway processes (the real `main.ts`, run by
 * tsx from source), a real redis-server, the real stand-in web UI and a real nginx running
 * `deploy/scale-out/nginx.conf` with its upstream servers replaced by the gateways started here
 * (testkit's `startLoadBalancer`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@cosyvoice3/testkit";
import { gatewayMainArgs } from "./main-entry.ts";
export { nginxBinary, startLoadBalancer } from "@cosyvoice3/testkit";

const GATEWAY = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** A child process answering HTTP. */
export interface Proc {
  url: string;
  port: number;
  pid: number;
  process: ChildProcess;
  output(): string;
  /** SIGTERM (graceful), SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once: a crashed instance. */
  kill(): Promise<void>;
}

function procOf(child: ChildProcess, url: string, port: number, output: () => string): Proc {
  const exited = new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once("exit", () => r())));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    url,
    port,
    pid: child.pid!,
    process: child,
    output,
    async stop(graceMs = 5_000) {
      if (gone()) return;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(t);
    },
    async kill() {
      if (gone()) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Polls `url` until it answers below 500 (or `ok` says so), the process exits, or 60 s pass. */
export async function waitUntil(url: string, child: ChildProcess, output: () => string, ok: (status: number) => boolean = (s) => s < 500): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}:\n${output()}`);
    try {
      if (ok((await fetch(url)).status)) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts one gateway process on `STORE=redis` with the given environment on top of test
 * defaults (loopback, a free port, a fresh data dir, quiet logs, no playground, generous rate
 * limits), and waits for `/healthz`.
 * @example const gw = await startGatewayProcess({ REDIS_URL: redis.url, COSYVOICE_URL: standin.url, REDIS_KEY_PREFIX: prefix });
 */
export async function startGatewayProcess(env: Record<string, string>): Promise<Proc> {
  const port = await freePort();
  const inherited = { ...process.env };
  // Nothing here reads the tracing variables of the outer shell.
  for (const k of Object.keys(inherited)) if (k.startsWith("OTEL_")) delete inherited[k];
  const child = spawn(process.execPath, gatewayMainArgs(), {
    cwd: GATEWAY,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...inherited,
      HOST: "127.0.0.1",
      PORT: String(port),
      DATA_DIR: mkdtempSync(join(tmpdir(), "scale-gw-")),
      STORE: "redis",
      LOG_LEVEL: "warn",
      PLAYGROUND: "false",
      RATE_LIMIT_SYNTHESIZE: "100000",
      RATE_LIMIT_UPLOAD: "100000",
      RATE_LIMIT_READ: "100000",
      ...env,
    },
  });
  let out = "";
  const keep = (b: Buffer) => void (out = (out + b.toString()).slice(-50_000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(`${url}/healthz`, child, () => out);
  return procOf(child, url, port, () => out);
}

/** One HTTP exchange's outcome, with how long it took. */
export interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
  /** @unit milliseconds */
  ms: number;
}

/** Sends a request and reads the whole answer. */
export async function call(url: string, init: RequestInit & { json?: unknown } = {}): Promise<Answer> {
  const started = performance.now();
  const { json, ...rest } = init;
  const res = await fetch(url, {
    ...rest,
    ...(json !== undefined ? { method: "POST", body: JSON.stringify(json), headers: { "content-type": "application/json", ...(rest.headers as Record<string, string> | undefined) } } : {}),
  });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body, ms: performance.now() - started };
}
