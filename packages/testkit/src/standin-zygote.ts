/**
 * The stand-in's fork server (apps/standin/zygote.py) for test runs: gradio is imported once per
 * run instead of once per stand-in (about 4 s of CPU each, some 70 stand-ins a run). Every
 * stand-in is still its own real process and Gradio server; `startStandin` reaches it through
 * `fork_client.py`, which exits as the stand-in does.
 *
 * Used as a vitest `globalSetup` by the projects that start stand-ins: the first project starts
 * the zygote and puts its socket in `STANDIN_ZYGOTE` (which the test workers inherit); the
 * others reuse it; the last teardown stops it. Without it (a test file run by other means, or
 * `STANDIN_ZYGOTE=off`), `startStandin` spawns `app.py` directly, as before.
 *
 * It also gives the run's stand-ins one memo of their AAC encodes (`STANDIN_ADTS_CACHE`, see
 * apps/standin/cvstandin/fast_adts.py): a run streams the same few sentences hundreds of times,
 * and the same WAV chunk always encodes to the same bytes. The last teardown removes it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const ZYGOTE = join(ROOT, "apps/standin/zygote.py");
const CLIENT = join(ROOT, "apps/standin/fork_client.py");
/** Environment a forked stand-in may set for itself: read by gradio at run time, not at import. */
const RUNTIME_ENV = new Set(["GRADIO_TEMP_DIR"]);

const defaultPython = () => process.env["STANDIN_PYTHON"] ?? join(ROOT, "apps/standin/.venv/bin/python");

/**
 * The command that starts `python app.py args`: through the fork server when one runs for this
 * interpreter and the extra environment is only what gradio reads at run time.
 */
export function standinCommand(python: string, appArgs: string[], env: Record<string, string> = {}): { command: string; args: string[] } {
  const socket = process.env["STANDIN_ZYGOTE"];
  const usable = socket !== undefined && socket !== "off" && existsSync(socket) && python === defaultPython() && Object.keys(env).every((k) => RUNTIME_ENV.has(k));
  // -S: the client needs no site-packages, and starts in milliseconds.
  return usable ? { command: python, args: ["-S", CLIENT, socket, ...appArgs] } : { command: python, args: [join(ROOT, "apps/standin/app.py"), ...appArgs] };
}

interface Shared {
  refs: number;
  child: ChildProcess;
  /** The run's directory: the zygote's socket and the encode memo. */
  dir: string;
}
const KEY = Symbol.for("cosyvoice3.standin-zygote");
const shared = globalThis as unknown as Record<symbol, Shared | undefined>;

/** vitest globalSetup: starts the zygote once for the whole run; returns the teardown. */
export default async function setup(): Promise<() => Promise<void>> {
  const running = shared[KEY];
  if (running) {
    running.refs++;
    return teardown;
  }
  if (process.env["STANDIN_ZYGOTE"] === "off") return async () => undefined;
  const python = defaultPython();
  if (!existsSync(python)) return async () => undefined; // startStandin reports the missing venv
  const dir = mkdtempSync(join(tmpdir(), "standin-zygote-"));
  const socket = join(dir, "sock");
  // Set before the zygote starts, so every stand-in of the run has it, forked or spawned.
  process.env["STANDIN_ADTS_CACHE"] ??= mkdtempSync(join(dir, "adts-"));
  // stdin stays open for the zygote's lifetime: when this process dies, the zygote sees EOF and ends.
  const child = spawn(python, [ZYGOTE, socket], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, GRADIO_ANALYTICS_ENABLED: "False", PYTHONUNBUFFERED: "1" },
  });
  let out = "";
  child.stderr.on("data", (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
  const ready = await new Promise<boolean>((res) => {
    const timer = setTimeout(() => res(false), 120_000);
    child.stdout.on("data", (b: Buffer) => {
      if (b.toString().includes("ready")) {
        clearTimeout(timer);
        res(true);
      }
    });
    child.once("exit", () => {
      clearTimeout(timer);
      res(false);
    });
  });
  if (!ready) {
    child.kill("SIGKILL");
    removeRunDir(dir);
    throw new Error(`the stand-in fork server did not start:\n${out}`);
  }
  child.stdout.resume();
  process.env["STANDIN_ZYGOTE"] = socket;
  shared[KEY] = { refs: 1, child, dir };
  return teardown;
}

async function teardown(): Promise<void> {
  const s = shared[KEY];
  if (!s || --s.refs > 0) return;
  shared[KEY] = undefined;
  delete process.env["STANDIN_ZYGOTE"];
  const exited = new Promise((r) => s.child.once("exit", r));
  s.child.stdin?.end();
  const t = setTimeout(() => s.child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(t);
  removeRunDir(s.dir);
}

/** Removes the run's directory, and the memo variable when it points into it (not one set outside). */
function removeRunDir(dir: string): void {
  if (process.env["STANDIN_ADTS_CACHE"]?.startsWith(dir)) delete process.env["STANDIN_ADTS_CACHE"];
  rmSync(dir, { recursive: true, force: true });
}
