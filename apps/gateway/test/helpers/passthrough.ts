/**
 * A gateway with a routes file in front of real stand-in web UIs, for the passthrough tests:
 * each stand-in keeps its uploads in its own directory (as two GPU boxes would), the routes
 * file is a real file the test may rewrite (hot reload), and the gateway is the published
 * `startGateway` on a free port.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStandin, type StandinHandle, type StandinOptions } from "@cosyvoice3/testkit";
import { pino } from "pino";
import { defaultConfig, type GatewayConfig } from "../../src/config.ts";
import { startGateway, type RunningGateway } from "../../src/server.ts";

/** Starts stand-ins, each with its own GRADIO_TEMP_DIR under `root`. */
export async function startBoxes(root: string, n: number, opts: StandinOptions = {}): Promise<StandinHandle[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) => {
      const dir = join(root, `box-${i + 1}`);
      mkdirSync(dir, { recursive: true });
      return startStandin({ variant: "official", model: "cosyvoice3", ...opts, env: { GRADIO_TEMP_DIR: join(dir, "gradio"), ...opts.env } });
    }),
  );
}

/** A running gateway whose routes come from a file. */
export interface RoutedGateway {
  gw: RunningGateway;
  url: string;
  routesFile: string;
  logLines: string[];
  /** Log entries (parsed) whose msg contains `text`. */
  logged(text: string): Record<string, unknown>[];
  /** Rewrites the routes file in place (same inode). */
  writeInPlace(text: string): void;
  /** Writes a new file beside it and renames it over (a new inode), as editors do. */
  replaceByRename(text: string): void;
  close(): Promise<void>;
}

/**
 * @example
 * const g = await startRoutedGateway(root, `routes:\n  - path: /cosyvoice/\n    backends: ["${box.url}"]\n`);
 */
export async function startRoutedGateway(root: string, routes: string, overrides: Partial<GatewayConfig> = {}, fileName = "routes.yaml"): Promise<RoutedGateway> {
  const dataDir = join(root, "data");
  mkdirSync(dataDir, { recursive: true });
  const routesFile = join(root, fileName);
  writeFileSync(routesFile, routes);
  const config = defaultConfig({
    port: 0,
    host: "127.0.0.1",
    dataDir,
    model: "cosyvoice3",
    routesFile,
    shutdownGraceMs: 1_000,
    healthCheckIntervalMs: 1_000,
    rateLimit: { windowMs: 60_000, synthesize: 1_000_000, upload: 1_000_000, read: 1_000_000 },
    ...overrides,
  });
  const logLines: string[] = [];
  const gw = await startGateway(config, pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) }));
  let n = 0;
  return {
    gw,
    url: gw.url,
    routesFile,
    logLines,
    logged: (text) =>
      logLines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((e) => typeof e["msg"] === "string" && (e["msg"] as string).includes(text)),
    writeInPlace: (text) => writeFileSync(routesFile, text),
    replaceByRename: (text) => {
      const tmp = join(root, `.routes-${++n}.tmp`);
      writeFileSync(tmp, text);
      renameSync(tmp, routesFile);
    },
    close: () => gw.stop(),
  };
}

/** A temp directory removed by `cleanup()`. */
export function tempRoot(prefix: string): { root: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
