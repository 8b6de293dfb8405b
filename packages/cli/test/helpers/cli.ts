/**
 * Runs the real `cosyvoice` binary in a child process (its TypeScript source through tsx, with
 * the workspace packages resolved to their sources by packages/cli/tsconfig.json), as a person
 * would from a shell: its own cwd, stdout and stderr captured, stdin closed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { newestMtime } from "@cosyvoice3/testkit";

const PKG = resolve(import.meta.dirname, "../..");
const BIN = join(PKG, "src/bin.ts");
// By URL: `--import tsx` would be resolved from the child's cwd, a temp dir.
const TSX = pathToFileURL(join(PKG, "node_modules/tsx/dist/loader.mjs")).href;

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface CliChild {
  child: ChildProcess;
  /** Resolves when stderr has shown text matching `re`. */
  waitForStderr(re: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<CliRun>;
}

/** A fresh working directory for one test. */
export const workDir = () => mkdtempSync(join(tmpdir(), "cli-test-"));

/**
 * Starts the CLI with `args`; `env` adds to a clean environment (no COSYVOICE_* from the
 * outside).
 * @example const run = await cli(["voices", "--gateway", url]).done;
 */
export function cli(args: string[], opts: { env?: Record<string, string>; cwd?: string; command?: string[] } = {}): CliChild {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("COSYVOICE_")) env[k] = v;
  Object.assign(env, { TSX_TSCONFIG_PATH: join(PKG, "tsconfig.json"), NO_COLOR: "1" }, opts.env);
  const command = opts.command ?? CLI_COMMAND;
  const child = spawn(command[0]!, [...command.slice(1), ...args], { cwd: opts.cwd ?? workDir(), env, stdio: ["ignore", "pipe", "pipe"] });
  const out: Buffer[] = [];
  let err = "";
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stdout!.on("data", (b: Buffer) => out.push(b));
  child.stderr!.on("data", (b: Buffer) => {
    err += b.toString();
    for (const w of waiters.splice(0)) (w.re.test(err) ? w.resolve : () => waiters.push(w))();
  });
  const done = new Promise<CliRun>((res) => {
    child.on("close", (code, signal) => res({ code, signal, stdout: Buffer.concat(out), stderr: err }));
  });
  return {
    child,
    done,
    waitForStderr(re, timeoutMs = 30_000) {
      if (re.test(err)) return Promise.resolve();
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`stderr never matched ${re}:\n${err}`)), timeoutMs);
        waiters.push({ re, resolve: () => (clearTimeout(t), res()) });
      });
    },
  };
}

/** Runs the CLI to the end. */
export const runCli = (args: string[], opts: Parameters<typeof cli>[1] = {}) => cli(args, opts).done;

/** Asserts-friendly view of stderr: its non-empty lines. */
export const lines = (s: string) => s.split("\n").filter((l) => l.trim() !== "");

/** True when a stderr looks like a stack trace (what the CLI must never print). */
export const hasStack = (s: string) => /\n\s+at .+:\d+:\d+/.test(s) || /^\s*at /m.test(s);

/** The bin path, for tests that run it under `script` (a pseudo-terminal). */
/**
 * True when the CLI and what it imports (the SDK, the typed client) are built from their current
 * sources, as `npm test` leaves them (it builds first).
 */
function builtIsFresh(): boolean {
  return ["sdk", "client", "cli"].every((p) => {
    const dir = resolve(PKG, "..", p);
    const entry = join(dir, "dist/index.js");
    const built = existsSync(entry) && (p !== "cli" || existsSync(join(dir, "dist/bin.js")));
    return built && newestMtime(join(dir, "src")) <= statSync(entry).mtimeMs;
  });
}

/**
 * The command that runs the CLI: its build, the binary a user installs, when it is fresh (it
 * starts in a third of tsx's time, and the tests spawn it dozens of times); else its source
 * through tsx, so a run without a build never tests stale code.
 */
export const CLI_COMMAND = builtIsFresh() ? [process.execPath, join(PKG, "dist/bin.js")] : [process.execPath, "--import", TSX, BIN];
export const CLI_TSCONFIG = join(PKG, "tsconfig.json");
