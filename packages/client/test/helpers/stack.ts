/**
 * The real stand-in web UI (a Gradio server) and the real gateway in this process through its
 * published `startGateway`, on a free loopback port with a private data directory. The CLI's
 * tests use it too (packages/cli/test/helpers/stack.ts re-exports it).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStandin, type StandinHandle, type StandinOptions } from "@cosyvoice3/testkit";
import { defaultConfig, startGateway, type GatewayConfig } from "cosyvoice3-gateway";
import { pino } from "pino";

export interface Stack {
  standin: StandinHandle;
  gatewayUrl: string;
  logLines: string[];
  close(): Promise<void>;
}

/** A stand-in with the given knobs and a gateway in front of it; rate limits lifted. */
export async function startStack(standinOptions: StandinOptions = {}, overrides: Partial<GatewayConfig> = {}): Promise<Stack> {
  const standin = await startStandin({ variant: "official", model: "cosyvoice3", ...standinOptions });
  const dataDir = mkdtempSync(join(tmpdir(), "stack-gw-"));
  try {
    const config = defaultConfig({
      port: 0,
      host: "127.0.0.1",
      dataDir,
      model: standinOptions.model ?? "cosyvoice3",
      cosyvoiceUrls: [standin.url],
      rateLimit: { windowMs: 60_000, synthesize: 1_000_000, upload: 1_000_000, read: 1_000_000 },
      shutdownGraceMs: 1_000,
      healthCheckIntervalMs: 0,
      logLevel: "debug",
      ...overrides,
    });
    const logLines: string[] = [];
    const logger = pino({ level: config.logLevel }, { write: (line: string) => void logLines.push(line) });
    const running = await startGateway(config, logger);
    return {
      standin,
      gatewayUrl: running.url,
      logLines,
      async close() {
        await running.stop();
        await standin.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await standin.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
