/**
 * Several real stand-ins behind one in-process gateway, through the real SDK: the pool the
 * gateway builds from a comma-separated COSYVOICE_URL.
 */
import { readRecord } from "@cosyvoice3/testkit";
import { pino, type Logger } from "pino";
import { defaultConfig, type GatewayConfig } from "../../src/platform/config.ts";
import { backendPoolFor, type BackendPool } from "../../src/backends/pool/index.ts";
import { startTestGateway, type TestGateway } from "./harness.ts";

export interface PoolGateway {
  gw: TestGateway;
  pool: BackendPool;
  /** JSON log lines of the pool and the gateway. */
  logLines: string[];
  close(): Promise<void>;
}

/** A gateway over `urls` (in that order: backend-1, backend-2, ...). */
export async function startPoolGateway(urls: string[], config: Partial<GatewayConfig> = {}): Promise<PoolGateway> {
  const logLines: string[] = [];
  const logger: Logger = pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) });
  const full = defaultConfig({ cosyvoiceUrls: urls, upstreamMaxRetries: 0, ...config });
  const pool = backendPoolFor(full, logger);
  pool.start();
  const gw = await startTestGateway({ backend: pool, config: full, logger });
  return {
    gw,
    pool,
    logLines,
    async close() {
      await gw.close();
      await pool.close();
    },
  };
}

/** How many synthesis jobs the stand-in's record shows. */
export function synthCalls(record: string): number {
  return readRecord(record).filter((e) => e.event === "call" && e["fn"] === "generate_audio").length;
}

/** Polls until `cond` holds (a generous bound, not a timing assertion). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function logged(logLines: string[], msg: string): { from: string; to: string; code: string }[] {
  return logLines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l["msg"] === msg)
    .map((l) => ({ from: String(l["from"]), to: String(l["to"]), code: String(l["code"]) }));
}

/** The failover lines of the log (a job no box had accepted): from, to and the SDK error code. */
export function failovers(logLines: string[]): { from: string; to: string; code: string }[] {
  return logged(logLines, "job not accepted; failing over to another backend");
}

/** The resend lines of the log (a box accepted the job, then failed it before any audio went out): from, to and the code. */
export function resends(logLines: string[]): { from: string; to: string; code: string }[] {
  return logged(logLines, "the box failed the job before any audio went out; running it once more on another backend");
}
