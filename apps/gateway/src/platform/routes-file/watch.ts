/**
 * Hot reload of the routes file. The directory is watched, not the file: an editor or config
 * management that writes a new file and renames it over the old one replaces the inode, and a
 * watch on the old inode would go quiet. Every event in the directory (debounced) re-reads the
 * file; equal bytes change nothing. A new file is validated in full before it takes over; a
 * broken one is logged with the path of each bad field and the last good configuration keeps
 * serving (Ocelot installs it anyway).
 */
import { readFileSync, watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { createHash } from "node:crypto";
import type { Logger } from "pino";
import { parseRoutesFile, RoutesFileError, type RoutesConfig } from "./load.ts";

/** Options of {@link watchRoutesFile}. */
export interface WatchRoutesOptions {
  logger: Logger;
  /** Called with each new valid configuration (not for the first one). */
  onChange: (next: RoutesConfig, previous: RoutesConfig) => void;
  /** Waits this long after the last event before reading. @default 100 @unit milliseconds */
  debounceMs?: number;
  /**
   * Also re-reads the file this often, for file systems whose events do not arrive (network
   * mounts, some container volumes); 0 turns it off. @default 2_000 @unit milliseconds
   */
  pollMs?: number;
}

/** A watched routes file. */
export interface RoutesFileWatcher {
  /** The configuration in force. */
  current(): RoutesConfig;
  /** Reads the file now (what an event does); resolves with whether a new configuration took over. */
  reload(): Promise<boolean>;
  close(): void;
}

/** Logs a configuration's notes (keys that load but do not do what Ocelot does). */
export function logNotes(config: RoutesConfig, file: string, logger: Logger): void {
  for (const n of config.notes) logger[n.severity === "warning" ? "warn" : "info"]({ file, path: n.path }, n.message);
}

/**
 * Loads the file (throws when it is invalid: a gateway must not start on a broken file) and
 * keeps following it.
 * @throws RoutesFileError when the file is missing or invalid at start
 * @example
 * const routes = watchRoutesFile("ocelot.json", { logger, onChange: (next) => table.install(next) });
 * routes.current().routes.length;
 */
export function watchRoutesFile(file: string, options: WatchRoutesOptions): RoutesFileWatcher {
  const path = resolve(file);
  const log = options.logger.child({ component: "routes-file" });
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new RoutesFileError(file, [{ path: "", message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  let current = parseRoutesFile(text, file);
  logNotes(current, file, log);
  log.info({ file: path, format: current.format, routes: current.routes.map((r) => r.path) }, "routes loaded");
  /** The digest of the last text read, valid or not: a broken file is reported once. */
  let lastSeen = current.digest;
  let timer: NodeJS.Timeout | undefined;
  let reading: Promise<boolean> | undefined;
  let again = false;
  let closed = false;

  async function readNow(): Promise<boolean> {
    let next: string;
    try {
      next = await readFile(path, "utf8");
    } catch (err) {
      // Between an unlink and a rename the file may briefly not exist: the next event reads it.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") log.error({ file: path, code }, "routes file unreadable; keeping the last good routes");
      return false;
    }
    let parsed: RoutesConfig;
    try {
      parsed = parseRoutesFile(next, file);
    } catch (err) {
      const digest = createHash("sha256").update(next).digest("hex");
      if (digest !== lastSeen) {
        lastSeen = digest;
        const issues = err instanceof RoutesFileError ? err.issues : [{ path: "", message: (err as Error).message }];
        log.error({ file: path, issues }, `routes file rejected (${issues.map((i) => i.path || "(file)").join(", ")}); keeping the last good routes`);
      }
      return false;
    }
    const wasRejected = lastSeen !== current.digest;
    lastSeen = parsed.digest;
    if (parsed.digest === current.digest) {
      // The last good content is back after a rejected edit: say so, or the last line an
      // operator reads is still "rejected".
      if (wasRejected) log.info({ file: path, format: parsed.format, routes: parsed.routes.map((r) => r.path) }, "routes file accepted again (the routes in force are unchanged)");
      return false;
    }
    const previous = current;
    current = parsed;
    logNotes(parsed, file, log);
    log.info({ file: path, format: parsed.format, routes: parsed.routes.map((r) => r.path) }, "routes reloaded");
    options.onChange(parsed, previous);
    return true;
  }

  function reload(): Promise<boolean> {
    if (reading) {
      again = true;
      return reading;
    }
    reading = readNow().finally(() => {
      reading = undefined;
      if (again && !closed) {
        again = false;
        void reload();
      }
    });
    return reading;
  }

  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), options.debounceMs ?? 100);
    timer.unref();
  };

  let watcher: FSWatcher | undefined;
  try {
    // Any change in the directory may be ours (Kubernetes swaps a `..data` symlink rather than
    // the file; some platforms give no file name); the digest check makes a spurious read cheap.
    watcher = watch(dirname(path), { persistent: false }, () => schedule());
    watcher.on("error", (err) => log.warn({ err }, "routes directory watch failed; polling only"));
  } catch (err) {
    log.warn({ err }, "cannot watch the routes directory; polling only");
  }
  const pollMs = options.pollMs ?? 2_000;
  const poll = pollMs > 0 ? setInterval(() => void reload(), pollMs) : undefined;
  poll?.unref();

  return {
    current: () => current,
    reload,
    close() {
      closed = true;
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      watcher?.close();
    },
  };
}
