/**
 * Gateways with narration jobs for the tests: in-process through `startGateway` (the whole
 * wiring: stores, queue, worker, shutdown), or as a child process that a test may SIGKILL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@cosyvoice3/testkit";
import { pino } from "pino";
import { defaultConfig, type GatewayConfig } from "../../src/platform/config.ts";
import { startGateway, type RunningGateway } from "../../src/server.ts";
import { contract } from "../helpers/contract.ts";
import { gatewayMainArgs } from "../helpers/main-entry.ts";
import type { CheckedResponse } from "../helpers/harness.ts";

const GATEWAY = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** fetch against a gateway, each answer checked against the OpenAPI document. */
export function apiOf(url: string, headers: Record<string, string> = {}) {
  return async (path: string, init: RequestInit = {}): Promise<CheckedResponse> => {
    const res = await fetch(url + path, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const type = res.headers.get("content-type") ?? "";
    const json = /json/.test(type) && bytes.length > 0 ? JSON.parse(Buffer.from(bytes).toString("utf8")) : undefined;
    contract.check(init.method ?? "GET", path, res.status, res.headers.get("content-type"), json);
    return { status: res.status, headers: res.headers, json, bytes };
  };
}

/** A gateway in this process, over real stores and the given backends. */
export async function startJobGateway(config: Partial<GatewayConfig>): Promise<RunningGateway & { config: GatewayConfig }> {
  const full = defaultConfig({
    port: 0,
    host: "127.0.0.1",
    dataDir: mkdtempSync(join(tmpdir(), "gw-jobs-")),
    rateLimit: { windowMs: 60_000, synthesize: 10_000, upload: 1_000, read: 100_000 },
    healthCheckIntervalMs: 0,
    ...config,
  });
  const gw = await startGateway(full, pino({ level: process.env["JOBS_TEST_LOG"] ?? "silent" }));
  return Object.assign(gw, { config: full });
}

/** A gateway process (the built main, or `src/main.ts` under tsx when the build is stale: helpers/main-entry.ts), for SIGKILL. */
export interface GatewayProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * @example const gw = await spawnGateway({ COSYVOICE_URL: standin.url, DATA_DIR: dir });
 */
export async function spawnGateway(env: Record<string, string>): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, gatewayMainArgs(), {
    cwd: GATEWAY,
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "info", HEALTH_CHECK_INTERVAL_MS: "0", RATE_LIMIT_READ: "100000", RATE_LIMIT_SYNTHESIZE: "10000", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  // Request lines aside (tests poll): what the gateway did is what a test reads.
  const keep = (b: Buffer) => b.toString().split("\n").filter((l) => !l.includes('"msg":"request completed"')).join("\n");
  child.stdout?.on("data", (b: Buffer) => (out = (out + keep(b)).slice(-200_000)));
  child.stderr?.on("data", (b: Buffer) => (out = (out + b.toString()).slice(-200_000)));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}:\n${out}`);
    const ok = await fetch(url + "/healthz").then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`gateway did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => out,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Polls a job until `until` holds (or throws after `timeoutMs`). */
export async function waitForJob(
  api: ReturnType<typeof apiOf>,
  id: string,
  until: (job: { status: string; segments: { done: number; total: number } }) => boolean,
  timeoutMs = 60_000,
  everyMs = 50,
): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api(`/jobs/${id}`);
    if (res.status === 200 && until(res.json)) return res.json;
    if (Date.now() > deadline) throw new Error(`job ${id} never got there: ${JSON.stringify(res.json)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The cues of a WebVTT or SRT file: start and end in milliseconds, and text. */
export function parseCues(text: string): { startMs: number; endMs: number; text: string }[] {
  const ms = (t: string) => {
    const [h, m, s] = t.replace(",", ".").split(":");
    return Math.round((Number(h) * 3600 + Number(m) * 60 + Number(s)) * 1000);
  };
  return text
    .split(/\n\n+/)
    .map((block) => /(\d\d:\d\d:\d\d[.,]\d{3}) --> (\d\d:\d\d:\d\d[.,]\d{3})\n([\s\S]*)/.exec(block))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ startMs: ms(m[1] as string), endMs: ms(m[2] as string), text: (m[3] as string).trim() }));
}
