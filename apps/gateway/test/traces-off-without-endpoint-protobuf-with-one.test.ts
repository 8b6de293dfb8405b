/**
 * Tracing is off (nothing installed, the app adds no span middleware) without an OTLP endpoint,
 * refuses a protocol it cannot speak, and exports http/protobuf (the OpenTelemetry default)
 * to an in-process receiver.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { startTracing, tracer, tracingEnabled } from "../src/platform/tracing/index.ts";

const logger = pino({ level: "silent" });

describe("tracing set-up from OTEL_* variables", () => {
  it("is off without an endpoint, and with OTEL_SDK_DISABLED=true", () => {
    expect(startTracing({}, logger).enabled).toBe(false);
    expect(startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9", OTEL_SDK_DISABLED: "true" }, logger).enabled).toBe(false);
    expect(tracingEnabled()).toBe(false);
  });

  it("refuses gRPC (not spoken here) at start-up", () => {
    expect(() => startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, logger)).toThrow(/http\/protobuf or http\/json/);
  });

  it("exports http/protobuf to <endpoint>/v1/traces", async () => {
    const got: { url: string | undefined; type: string | undefined; bytes: number }[] = [];
    const receiver = createServer((req, res) => {
      let n = 0;
      req.on("data", (c: Buffer) => (n += c.length));
      req.on("end", () => {
        got.push({ url: req.url, type: req.headers["content-type"], bytes: n });
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const tracing = startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/` }, logger);
    try {
      expect(tracingEnabled()).toBe(true);
      tracer().startSpan("probe").end();
      await tracing.flush();
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ url: "/v1/traces", type: "application/x-protobuf" });
      expect(got[0]!.bytes).toBeGreaterThan(20);
    } finally {
      await tracing.shutdown();
      await new Promise((r) => receiver.close(r));
    }
    expect(tracingEnabled()).toBe(false);
  });
});
