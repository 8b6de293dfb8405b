/**
 * The article's set-up, for a browser: a stand-in web UI (a real Gradio server) and the gateway
 * with a routes file that maps `/cosyvoice/` to it, started through the published
 * `startGateway` on free loopback ports.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { defaultConfig, startGateway, type GatewayConfig } from "cosyvoice3-gateway";
import { pino } from "pino";

/** A stand-in behind the gateway's `/cosyvoice/` route. */
export interface PassthroughStack {
  standin: StandinHandle;
  gatewayUrl: string;
  logLines: string[];
  close(): Promise<void>;
}

/**
 * @example
 * const stack = await startPassthroughStack();
 * await page.goto(`${stack.gatewayUrl}/cosyvoice/`);
 */
export async function startPassthroughStack(overrides: Partial<GatewayConfig> = {}): Promise<PassthroughStack> {
  const root = mkdtempSync(join(tmpdir(), "browser-passthrough-"));
  const standin = await startStandin({ variant: "official", model: "cosyvoice3", env: { GRADIO_TEMP_DIR: join(root, "gradio") } });
  try {
    const dataDir = join(root, "data");
    mkdirSync(dataDir);
    const routesFile = join(root, "routes.yaml");
    writeFileSync(routesFile, `routes:\n  - path: /cosyvoice/\n    kind: gradio\n    backends: ["${standin.url}"]\n    rateLimit: { limit: 10, windowMs: 1000 }\n`);
    const config = defaultConfig({
      port: 0,
      host: "127.0.0.1",
      dataDir,
      model: "cosyvoice3",
      cosyvoiceUrls: [standin.url],
      routesFile,
      shutdownGraceMs: 2_000,
      logLevel: "debug",
      ...overrides,
    });
    const logLines: string[] = [];
    const running = await startGateway(config, pino({ level: config.logLevel }, { write: (line: string) => void logLines.push(line) }));
    return {
      standin,
      gatewayUrl: running.url,
      logLines,
      async close() {
        await running.stop();
        await standin.stop();
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await standin.stop();
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}
