/**
 * Starting and stopping a gateway process: stores under the data directory, the SDK backend,
 * the HTTP server, and a graceful stop (stop accepting, let running jobs finish up to a
 * deadline, cancel the rest).
 */
import type { Server } from "node:http";
import { join } from "node:path";
import type { Logger } from "pino";
import { createApp } from "./app.ts";
import { connectingBackend, type SynthesisBackend } from "./backend.ts";
import type { GatewayConfig } from "./config.ts";
import { Slots } from "./slots.ts";
import { DiskAudioStore } from "./stores/audio-store.ts";
import { DiskVoiceStore } from "./stores/voice-store.ts";

/** A listening gateway. */
export interface RunningGateway {
  server: Server;
  /** The bound port (useful with port 0). */
  port: number;
  url: string;
  /** Graceful stop; resolves when everything is closed. */
  stop(): Promise<void>;
}

/**
 * Opens the stores, builds the app and listens.
 * @example
 * const gw = await startGateway(loadConfig(process.env), pino());
 * process.once("SIGTERM", () => void gw.stop());
 */
export async function startGateway(
  config: GatewayConfig,
  logger: Logger,
  options: { backend?: SynthesisBackend } = {},
): Promise<RunningGateway> {
  const voices = await DiskVoiceStore.open(join(config.dataDir, "voices"));
  const audio = await DiskAudioStore.open(join(config.dataDir, "audio"), { ttlMs: config.audioTtlMs, maxBytes: config.audioMaxBytes });
  const backend =
    options.backend ??
    connectingBackend(config.cosyvoiceUrl, {
      client: { model: config.model, timeoutMs: config.upstreamTimeoutMs, maxRetries: config.upstreamMaxRetries, logger: logger.child({ component: "sdk" }) },
    });
  const slots = new Slots({ concurrency: config.concurrency, queueSize: config.queueSize });
  const shutdown = new AbortController();
  const app = createApp(config, { backend, voices, audio, logger, slots, shutdown: shutdown.signal });

  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  server.requestTimeout = config.requestTimeoutMs;
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  logger.info({ port, host: config.host, backend: config.cosyvoiceUrl, dataDir: config.dataDir }, "gateway listening");

  let stopping: Promise<void> | undefined;
  async function stop(): Promise<void> {
    stopping ??= (async () => {
      logger.info({ graceMs: config.shutdownGraceMs, ...slots.load }, "shutting down: no new connections");
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), config.shutdownGraceMs);
      });
      if ((await Promise.race([slots.idle().then(() => "idle" as const), grace])) === "timeout") {
        logger.warn(slots.load, "grace period over: cancelling the remaining jobs");
        shutdown.abort();
      }
      clearTimeout(timer);
      await slots.idle();
      server.closeAllConnections();
      await closed;
      await backend.close();
      await audio.close();
      logger.info("gateway stopped");
    })();
    return stopping;
  }

  return { server, port, url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`, stop };
}
