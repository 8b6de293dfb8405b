/**
 * The whole stack for the fault suite: the real stand-in web UI (a Gradio server), the real SDK
 * client, and the gateway built from its public library entry, listening on a free port with a
 * private data directory. Only the gateway's published exports are used, so the suite pins the
 * behaviour a deployment gets.
 */
import { mkdtempSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStandin, type StandinHandle, type StandinOptions } from "@cosyvoice3/testkit";
import {
  connectingBackend,
  createApp,
  defaultConfig,
  DiskAudioStore,
  DiskVoiceStore,
  Slots,
  type GatewayConfig,
  type SynthesisBackend,
} from "cosyvoice3-gateway";
import { pino } from "pino";

/** A gateway listening on loopback in this process. */
export interface Gateway {
  url: string;
  config: GatewayConfig;
  dataDir: string;
  slots: Slots;
  server: Server;
  /** Structured log lines the gateway wrote (JSON strings). */
  logLines: string[];
  close(): Promise<void>;
}

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /** Backend the gateway calls; built from `backendUrl` when absent. */
  backend?: SynthesisBackend;
  /** URL of the CosyVoice UI (the stand-in). */
  backendUrl?: string;
  /** @default "cosyvoice3" */
  model?: GatewayConfig["model"];
  /** Overrides of the gateway's defaults (the rate limits are lifted unless given). */
  config?: Partial<GatewayConfig>;
  dataDir?: string;
}

/**
 * Builds and listens a gateway in-process. Its rate limits are raised out of the way unless a
 * test sets them, so one test's traffic never trips another's quota.
 * @example
 * const gw = await startGateway({ backendUrl: standin.url, config: { upstreamTimeoutMs: 2_000 } });
 */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "fault-gw-"));
  const model = opts.model ?? "cosyvoice3";
  const config = defaultConfig({
    dataDir,
    model,
    cosyvoiceUrl: opts.backendUrl ?? "http://127.0.0.1:9",
    rateLimit: { windowMs: 60_000, synthesize: 1_000_000, upload: 1_000_000, read: 1_000_000 },
    logLevel: "debug",
    ...opts.config,
  });
  const backend =
    opts.backend ??
    connectingBackend(config.cosyvoiceUrl, {
      client: { model, timeoutMs: config.upstreamTimeoutMs, maxRetries: config.upstreamMaxRetries },
    });
  const logLines: string[] = [];
  const logger = pino({ level: config.logLevel }, { write: (line: string) => void logLines.push(line) });
  const voices = await DiskVoiceStore.open(join(dataDir, "voices"));
  const audio = await DiskAudioStore.open(join(dataDir, "audio"), { ttlMs: config.audioTtlMs, maxBytes: config.audioMaxBytes });
  const slots = new Slots({ concurrency: config.concurrency, queueSize: config.queueSize });
  const app = createApp(config, { backend, voices, audio, logger, slots });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  server.requestTimeout = config.requestTimeoutMs;
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    config,
    dataDir,
    slots,
    server,
    logLines,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await backend.close();
      await audio.close();
    },
  };
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
