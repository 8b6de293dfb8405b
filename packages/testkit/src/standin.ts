import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { standinCommand } from "./standin-zygote.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Which server the stand-in is (`--serve`). */
export type StandinServe = "gradio" | "fastapi" | "grpc" | "openai" | "asr";

/** Options for {@link startStandin}; each maps to one flag of `apps/standin/app.py`. */
export interface StandinOptions {
  /**
   * Which server to start: the Gradio web UI (default), CosyVoice's official FastAPI or gRPC
   * server, vLLM-Omni's OpenAI-compatible speech server, or the OpenAI-compatible ASR.
   * @default "gradio"
   */
  serve?: StandinServe;
  /** `--serve gradio` only. @default "official" */
  variant?: "official" | "cv3-en";
  /** @default "cosyvoice3" */
  model?: "cosyvoice3" | "cosyvoice2" | "cosyvoice1";
  /** @default a free port */
  port?: number;
  firstChunkDelayMs?: number;
  chunkDelayMs?: number;
  failRate?: number;
  forceWarning?: boolean;
  crashAfterChunks?: number;
  /** `--serve grpc`: worker threads and concurrent RPCs (`--max-conc`). */
  maxConc?: number;
  /** Record file path. @default a fresh file in a temp dir */
  record?: string;
  /** Python interpreter. @default $STANDIN_PYTHON or apps/standin/.venv/bin/python */
  python?: string;
  /** Extra raw flags. */
  extraArgs?: string[];
  /**
   * Extra environment variables, e.g. `GRADIO_TEMP_DIR` so two stand-ins on one machine keep
   * their uploads apart as two GPU boxes would.
   */
  env?: Record<string, string>;
  /**
   * How long to wait for the server to answer (gradio `/config`, fastapi `/openapi.json`,
   * openai and asr `/health`, grpc a TCP connect). @default 60_000 @unit milliseconds
   */
  startTimeoutMs?: number;
}

export interface StandinHandle {
  /** Which server this is. */
  serve: StandinServe;
  /** `http://127.0.0.1:PORT` (for grpc: use {@link StandinHandle.address}). */
  url: string;
  /** `127.0.0.1:PORT`, what a gRPC client dials. */
  address: string;
  port: number;
  /**
   * The gradio version the stand-in runs (its `/config` says it): 5.4.0 by default, the newest
   * 5.x or 6.x under `pnpm test:compat`. Tests whose expectations gradio legitimately changed
   * read it (see {@link gradioMajor}). Empty for the other servers.
   */
  gradioVersion: string;
  record: string;
  process: ChildProcess;
  /** Output the process wrote so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Stops the process (SIGTERM, then SIGKILL after 3 s) and waits for it to exit. */
  stop(): Promise<void>;
}

/** One line of the stand-in's `--record` file. */
export type RecordEntry = Record<string, unknown> & { event: string };

/**
 * The major version of the gradio a stand-in runs, for expectations gradio changed between
 * versions (HLS segment counts, the version string, the 5.4-only shared-session trap).
 * @example if (gradioMajor(standin) >= 6) expect(segments).toBeGreaterThanOrEqual(2); else expect(segments).toBe(2);
 */
export function gradioMajor(h: Pick<StandinHandle, "gradioVersion">): number {
  return Number.parseInt(h.gradioVersion.split(".")[0] ?? "", 10);
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/**
 * Waits until the record holds entries for which `pred` is true (polling the file), and returns
 * the whole record at that moment.
 *
 * @example
 * const rec = await waitForRecord(h.record, (r) => r.some((e) => e.event === "done"));
 */
export async function waitForRecord(
  file: string,
  pred: (entries: RecordEntry[]) => boolean,
  timeoutMs = 30_000,
): Promise<RecordEntry[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const entries = readRecord(file);
    if (pred(entries)) return entries;
    if (Date.now() > deadline) throw new Error(`record did not reach the expected state:\n${JSON.stringify(entries, null, 1)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Parses the JSON-lines record file; a missing file is an empty record. */
export function readRecord(file: string): RecordEntry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as RecordEntry);
}

/** A TCP connection to host:port succeeds. */
function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const sock = connect({ host: "127.0.0.1", port });
    sock.once("connect", () => {
      sock.destroy();
      res(true);
    });
    sock.once("error", () => res(false));
  });
}

/** One readiness probe: true once the server answers as its kind does. */
async function probe(serve: StandinServe, url: string, port: number): Promise<{ ready: boolean; gradioVersion: string }> {
  if (serve === "grpc") return { ready: await canConnect(port), gradioVersion: "" };
  const path = serve === "gradio" ? "/config" : serve === "fastapi" ? "/openapi.json" : "/health";
  try {
    const r = await fetch(`${url}${path}`);
    if (!r.ok) return { ready: false, gradioVersion: "" };
    if (serve !== "gradio") {
      await r.arrayBuffer();
      return { ready: true, gradioVersion: "" };
    }
    return { ready: true, gradioVersion: String(((await r.json()) as { version?: unknown }).version ?? "") };
  } catch {
    return { ready: false, gradioVersion: "" }; // not listening yet
  }
}

/**
 * Starts a stand-in server (the Gradio web UI by default; `serve` picks the FastAPI, gRPC,
 * OpenAI-speech or ASR server) and waits until it answers.
 * @example const h = await startStandin({ serve: "fastapi", model: "cosyvoice3" }); // POST `${h.url}/inference_zero_shot`
 */
export async function startStandin(opts: StandinOptions = {}): Promise<StandinHandle> {
  const serve = opts.serve ?? "gradio";
  const port = opts.port ?? (await freePort());
  const record = opts.record ?? join(mkdtempSync(join(tmpdir(), "standin-")), "record.jsonl");
  const python = opts.python ?? process.env["STANDIN_PYTHON"] ?? join(ROOT, "apps/standin/.venv/bin/python");
  const args = ["--port", String(port), "--record", record];
  if (serve !== "gradio") args.push("--serve", serve);
  if (serve === "gradio") args.push("--variant", opts.variant ?? "official");
  if (serve !== "asr") args.push("--model", opts.model ?? "cosyvoice3");
  if (opts.maxConc !== undefined) args.push("--max-conc", String(opts.maxConc));
  if (opts.firstChunkDelayMs !== undefined) args.push("--first-chunk-delay-ms", String(opts.firstChunkDelayMs));
  if (opts.chunkDelayMs !== undefined) args.push("--chunk-delay-ms", String(opts.chunkDelayMs));
  if (opts.failRate !== undefined) args.push("--fail-rate", String(opts.failRate));
  if (opts.forceWarning) args.push("--force-warning");
  if (opts.crashAfterChunks !== undefined) args.push("--crash-after-chunks", String(opts.crashAfterChunks));
  if (opts.extraArgs) args.push(...opts.extraArgs);

  // Through the run's fork server when there is one (standin-zygote.ts), else `python app.py`.
  const { command, args: argv } = standinCommand(python, args, opts.env);
  const child = spawn(command, argv, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, GRADIO_ANALYTICS_ENABLED: "False", PYTHONUNBUFFERED: "1", ...opts.env },
  });
  let out = "";
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((res) => child.once("exit", () => res()));

  const url = `http://127.0.0.1:${port}`;
  // STANDIN_START_TIMEOUT_MS lifts the default on a loaded machine (many sessions on few cores).
  const deadline = Date.now() + (opts.startTimeoutMs ?? (Number(process.env["STANDIN_START_TIMEOUT_MS"]) || 60_000));
  let gradioVersion = "";
  for (;;) {
    if (child.exitCode !== null) throw new Error(`stand-in exited with ${child.exitCode}:\n${out}`);
    const p = await probe(serve, url, port);
    if (p.ready) {
      gradioVersion = p.gradioVersion;
      break;
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`stand-in (${serve}) did not answer within the start timeout:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }

  return {
    serve,
    url,
    address: `127.0.0.1:${port}`,
    port,
    gradioVersion,
    record,
    process: child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}
