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
import { defaultConfig, type GatewayConfig } from "../../src/platform/config.ts";
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
    // The REST API's backend: nothing listens on port 1 (never a real UI on 7860).
    cosyvoiceUrls: ["http://127.0.0.1:1"],
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

/** The prompt text CosyVoice3 needs in zero-shot mode. */
export const PROMPT_TEXT = "You are a helpful assistant.<|endofprompt|>This is my voice.";

/**
 * One whole Gradio session over the raw protocol through `base` (e.g. `http://gw/cosyvoice`):
 * upload a prompt, join a 3 s clone, follow the stream to `process_completed`.
 * @returns whether the job succeeded, and its session hash
 */
export async function runCloneSession(base: string, session: string, text: string): Promise<{ session: string; success: boolean; messages: string[] }> {
  const { joinQueue, openQueueStream, synthWav, uploadFile } = await import("@cosyvoice3/testkit");
  const file = await uploadFile(base, synthWav({ sampleRate: 24_000, seconds: 3, f0: 160 }), `${session}.wav`, "audio/wav");
  const join = await joinQueue(base, { fn_index: 1, session_hash: session, data: [text, "3s极速复刻", "", PROMPT_TEXT, file, null, "", 0, false, 1] });
  if (!join.ok) return { session, success: false, messages: [`join ${join.status} ${JSON.stringify(join.body)}`] };
  const stream = await openQueueStream(base, session);
  try {
    const done = await stream.waitFor((m) => m.msg === "process_completed" || m.msg === "unexpected_error", 60_000);
    return { session, success: done["success"] === true, messages: stream.messages.map((m) => m.msg) };
  } finally {
    stream.close();
  }
}

/** What {@link startEchoBackend} saw of one request. */
export interface EchoRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Bytes of body received so far. */
  received: number;
  ended: boolean;
  /** The connection closed before the body ended or the answer was sent. */
  aborted: boolean;
}

/** A plain HTTP backend that shows what reached it (headers, body progress, disconnects). */
export interface EchoBackend {
  url: string;
  port: number;
  requests: EchoRequest[];
  close(): Promise<void>;
}

/**
 * Paths: `/headers` answers the request's headers as JSON (with hop-by-hop headers of its own);
 * `/redirect` answers 302 to its own absolute URL; `/upload` reads the body and answers its
 * size; `/hang` accepts and never answers.
 * @example const echo = await startEchoBackend(); await fetch(`${echo.url}/headers`);
 */
export async function startEchoBackend(): Promise<EchoBackend> {
  const { createServer } = await import("node:http");
  const requests: EchoRequest[] = [];
  const server = createServer((req, res) => {
    const seen: EchoRequest = { method: req.method ?? "", url: req.url ?? "", headers: { ...req.headers }, received: 0, ended: false, aborted: false };
    requests.push(seen);
    req.on("data", (c: Buffer) => (seen.received += c.length));
    req.on("end", () => (seen.ended = true));
    res.on("close", () => {
      if (!res.writableFinished) seen.aborted = true;
    });
    const path = (req.url ?? "").split("?")[0] ?? "";
    if (path.endsWith("/hang")) return;
    if (path.endsWith("/redirect")) {
      res.writeHead(302, { location: `http://127.0.0.1:${port}/landed` });
      return void res.end();
    }
    req.on("end", () => {
      if (path.endsWith("/upload")) {
        res.writeHead(200, { "content-type": "application/json" });
        return void res.end(JSON.stringify({ received: seen.received }));
      }
      res.writeHead(200, { "content-type": "application/json", connection: "keep-alive, x-upstream-hop", "x-upstream-hop": "1", "keep-alive": "timeout=5" });
      res.end(JSON.stringify(seen.headers));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
