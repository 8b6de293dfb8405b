#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * Launched with V8's young generation capped at 4 MiB per semi-space (the shebang, the start
 * script, the image): by default it grows to 16 MiB and, with the heap V8 keeps, a warmed-up
 * gateway sat near 130 MB of RSS instead of about 92 (bench figure 5, same run, same machine).
 *
 * The gateway process: reads and validates the configuration (a bad value stops start-up with
 * a message naming it), listens, and stops gracefully on SIGTERM/SIGINT.
 */
import { createLogger, resolveLogFormat } from "./platform/logging.ts";
import { ConfigError, loadConfig } from "./platform/config.ts";
import { RoutesFileError } from "./platform/routes-file/load.ts";
import { startGateway } from "./server.ts";
import { traceLogFields } from "./platform/tracing/spans.ts";

async function main(): Promise<void> {
  let config;
  try {
    // Relative paths (DATA_DIR, CONFIG_FILE) are relative to where the person ran the command:
    // npm and pnpm run a package's script in its own folder but say where they were started in
    // INIT_CWD, so `npm start` and `pnpm --filter cosyvoice3-gateway start` share one data folder.
    config = loadConfig(process.env, process.env["INIT_CWD"] || process.cwd());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`cosyvoice3-gateway: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const tracingOn = Boolean(process.env["OTEL_EXPORTER_OTLP_ENDPOINT"] || process.env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]) && process.env["OTEL_SDK_DISABLED"] !== "true";
  // Log lines name their trace when tracing is on (the mixin reads the active span).
  const logger = createLogger({
    level: config.logLevel,
    format: resolveLogFormat(config.logFormat, process.stdout.isTTY),
    base: { service: "cosyvoice3-gateway" },
    ...(tracingOn ? { mixin: traceLogFields } : {}),
  });
  // The OpenTelemetry SDK and exporters are loaded only when an endpoint is set (RSS at start).
  let tracing: { shutdown(): Promise<void> } = { shutdown: async () => undefined };
  if (tracingOn) {
    try {
      tracing = (await import("./platform/tracing/setup.ts")).startTracing(process.env, logger);
    } catch (err) {
      process.stderr.write(`cosyvoice3-gateway: ${(err as Error).message}\n`);
      process.exit(2);
    }
  }
  const gateway = await startGateway(config, logger);
  logger.info({ docs: `${gateway.url}/docs` }, "Swagger UI");
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "signal received");
    gateway.stop().then(() => tracing.shutdown()).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
}

main().catch((err: unknown) => {
  // A routes file broken at start is a configuration error, named field by field.
  if (err instanceof RoutesFileError) {
    process.stderr.write(`cosyvoice3-gateway: ROUTES_FILE ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`cosyvoice3-gateway: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
