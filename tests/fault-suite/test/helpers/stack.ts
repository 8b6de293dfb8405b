/**
 * The whole stack for the fault suite: the real stand-in web UI (a Gradio server), the real SDK
 * client, and the gateway started through its published `startGateway` (the same server set-up
 * `main.ts` uses: stores under the data directory, request timeout, graceful stop), listening
 * on a free loopback port with a private data directory.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStandin, type StandinHandle, type StandinOptions } from "@cosyvoice3/testkit";
import { defaultConfig, startGateway as startRealGateway, type GatewayConfig, type RunningGateway } from "cosyvoice3-gateway";
import { pino } from "pino";

/** A gateway listening on loopback in this process. */
export interface Gateway {
  url: string;
  config: GatewayConfig;
  /** The sandbox: `dataDir` lives inside it, nothing else should ever be written there. */
  root: string;
  dataDir: string;
  running: RunningGateway;
  /** Structured log lines the gateway wrote (JSON strings). */
  logLines: string[];
  close(): Promise<void>;
}

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /** URL of the CosyVoice UI (the stand-in). @default a closed port */
  backendUrl?: string;
  /** @default "cosyvoice3" */
  model?: GatewayConfig["model"];
  /** Overrides of the gateway's defaults (the rate limits are lifted unless given). */
  config?: Partial<GatewayConfig>;
}

/**
 * Starts a gateway in-process with `startGateway`. Its rate limits are raised out of the way
 * unless a test sets them, so one test's traffic never trips another's quota. The data
 * directory is `<root>/data`, so a test can check that nothing appeared beside it.
 * @example
 * const gw = await startGateway({ backendUrl: standin.url, config: { upstreamTimeoutMs: 2_000 } });
 */
export async function startGateway(opts: GatewayOptions = {}): Promise<Gateway> {
  const root = mkdtempSync(join(tmpdir(), "fault-gw-"));
  const dataDir = join(root, "data");
  mkdirSync(dataDir);
  const model = opts.model ?? "cosyvoice3";
  const config = defaultConfig({
    port: 0,
    host: "127.0.0.1",
    dataDir,
    model,
    cosyvoiceUrls: [opts.backendUrl ?? "http://127.0.0.1:9"],
    rateLimit: { windowMs: 60_000, synthesize: 1_000_000, upload: 1_000_000, read: 1_000_000 },
    shutdownGraceMs: 2_000,
    logLevel: "debug",
    // The playground answers GET / (and a URL whose %2e%2e segments a client resolves to /); the
    // traversal cases expect the API's own 404 there.
    playground: false,
    ...opts.config,
  });
  const logLines: string[] = [];
  const logger = pino({ level: config.logLevel }, { write: (line: string) => void logLines.push(line) });
  const running = await startRealGateway(config, logger);
  return { url: running.url, config, root, dataDir, running, logLines, close: () => running.stop() };
}

/** A stand-in and a gateway in front of it. */
export interface Stack {
  standin: StandinHandle;
  gw: Gateway;
  close(): Promise<void>;
}

/**
 * Starts a stand-in with the given knobs and a gateway in front of it through the SDK.
 * @example
 * const stack = await startStack({ firstChunkDelayMs: 3_000 }, { upstreamTimeoutMs: 1_000 });
 */
export async function startStack(standin: StandinOptions = {}, config: Partial<GatewayConfig> = {}): Promise<Stack> {
  const h = await startStandin(standin);
  try {
    const gw = await startGateway({ backendUrl: h.url, model: standin.model ?? "cosyvoice3", config });
    return {
      standin: h,
      gw,
      async close() {
        await gw.close();
        await h.stop();
      },
    };
  } catch (err) {
    await h.stop();
    throw err;
  }
}
