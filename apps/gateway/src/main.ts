/**
 * The gateway process: reads and validates the configuration (a bad value stops start-up with
 * a message naming it), listens, and stops gracefully on SIGTERM/SIGINT.
 */
import { pino } from "pino";
import { ConfigError, loadConfig } from "./config.ts";
import { startGateway } from "./server.ts";
import { startTracing, traceLogFields } from "./tracing/index.ts";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`cosyvoice3-gateway: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const tracingOn = Boolean(process.env["OTEL_EXPORTER_OTLP_ENDPOINT"] || process.env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
  // Log lines name their trace when tracing is on (the mixin reads the active span).
  const logger = pino({ level: config.logLevel, base: { service: "cosyvoice3-gateway" }, ...(tracingOn ? { mixin: traceLogFields } : {}) });
  let tracing;
  try {
    tracing = startTracing(process.env, logger);
  } catch (err) {
    process.stderr.write(`cosyvoice3-gateway: ${(err as Error).message}\n`);
    process.exit(2);
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
  process.stderr.write(`cosyvoice3-gateway: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
