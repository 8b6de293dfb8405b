import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { standinCommand } from "./standin-zygote.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Options for {@link startStandin}; each maps to one flag of `apps/standin/app.py`. */
export interface StandinOptions {
  /** @default "official" */
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
  /** How long to wait for `/config` to answer. @default 60_000 @unit milliseconds */
  startTimeoutMs?: number;
}

export interface StandinHandle {
  url: string;
  port: number;
  /**
   * The gradio version the stand-in runs (its `/config` says it): 5.4.0 by default, the newest
   * 5.x or 6.x under `pnpm test:compat`. Tests whose expectations gradio legitimately changed
   * read it (see {@link gradioMajor}).
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

/** Starts the stand-in web UI as a real Gradio server and waits until `/config` answers. */
export async function startStandin(opts: StandinOptions = {}): Promise<StandinHandle> {
  const port = opts.port ?? (await freePort());
  const record = opts.record ?? join(mkdtempSync(join(tmpdir(), "standin-")), "record.jsonl");
  const python = opts.python ?? process.env["STANDIN_PYTHON"] ?? join(ROOT, "apps/standin/.venv/bin/python");
  const args = ["--port", String(port), "--record", record];
  args.push("--variant", opts.variant ?? "official", "--model", opts.model ?? "cosyvoice3");
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
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  let gradioVersion = "";
  for (;;) {
    if (child.exitCode !== null) throw new Error(`stand-in exited with ${child.exitCode}:\n${out}`);
    try {
      const r = await fetch(`${url}/config`);
      if (r.ok) {
        gradioVersion = String(((await r.json()) as { version?: unknown }).version ?? "");
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`stand-in did not answer /config within the start timeout:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }

  return {
    url,
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
