/**
 * Builds the gateway in-process on a free port, with a temp data dir, a silent (or captured)
 * logger and the given backend. `api()` is fetch plus a contract check of every response.
 */
import type { AddressInfo } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "node:http";
import type { Store } from "express-rate-limit";
import { pino, type Logger } from "pino";
import { createApp } from "../../src/app.ts";
import type { SynthesisCache } from "../../src/service/cache/index.ts";
import type { JobSlots } from "../../src/service/caps/index.ts";
import type { GatewayMetrics } from "../../src/platform/metrics/index.ts";
import type { SynthesisBackend } from "../../src/backends/port.ts";
import { defaultConfig, type GatewayConfig } from "../../src/platform/config.ts";
import type { Clock } from "../../src/context.ts";
import { BackendPool } from "../../src/backends/pool/index.ts";
import { Slots } from "../../src/service/caps/slots.ts";
import { DiskAudioStore, type AudioStore } from "../../src/platform/stores/audio-store.ts";
import { DiskVoiceStore, type VoiceStore } from "../../src/platform/stores/voice-store.ts";
import { contract } from "./contract.ts";

export interface TestGateway {
  url: string;
  config: GatewayConfig;
  voices: VoiceStore;
  audio: AudioStore;
  /** The slots of the (first) backend. */
  slots: JobSlots;
  /** The backend pool (a pool of one around a single backend). */
  pool: BackendPool;
  logLines: string[];
  /** fetch against the gateway; every response is checked against the OpenAPI document. */
  api(path: string, init?: RequestInit): Promise<CheckedResponse>;
  close(): Promise<void>;
}

export interface CheckedResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON (problem or body) or undefined. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  bytes: Uint8Array;
}

export async function startTestGateway(opts: {
  backend: SynthesisBackend;
  config?: Partial<GatewayConfig>;
  dataDir?: string;
  clock?: Clock;
  logger?: Logger;
  /** The synthesis cache; without one nothing is cached. */
  cache?: SynthesisCache;
  /** Where `/metrics` counts. @default a registry of the app's own */
  metrics?: GatewayMetrics;
  /** The gateway's shutdown signal (the server's own aborts on SIGTERM); every job listens to it. */
  shutdown?: AbortSignal;
  /** Stores other than the disk ones under dataDir (e.g. Redis); the test closes them. */
  stores?: { voices: VoiceStore; audio: AudioStore; rateLimitStore?: (name: string) => Store };
}): Promise<TestGateway> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "gateway-test-"));
  // Generous quotas unless a test is about them, so tests do not trip each other's limits.
  const config = defaultConfig({ dataDir, rateLimit: { windowMs: 60_000, synthesize: 1000, upload: 1000, read: 10_000 }, ...opts.config });
  const logLines: string[] = [];
  const logger =
    opts.logger ??
    pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) });
  const clock = opts.clock ?? { now: Date.now };
  const voices = opts.stores?.voices ?? (await DiskVoiceStore.open(join(dataDir, "voices"), clock.now));
  const audio =
    opts.stores?.audio ?? (await DiskAudioStore.open(join(dataDir, "audio"), { ttlMs: config.audioTtlMs, maxBytes: config.audioMaxBytes, now: clock.now }));
  let pool: BackendPool;
  let slots: JobSlots;
  if (opts.backend instanceof BackendPool) {
    pool = opts.backend;
    const first = pool.status()[0]?.name ?? "";
    slots = pool.slotsOf(first) ?? new Slots({ concurrency: config.concurrency, queueSize: config.queueSize });
  } else {
    slots = new Slots({ concurrency: config.concurrency, queueSize: config.queueSize });
    pool = BackendPool.single(opts.backend, slots, logger);
  }
  const rateLimitStore = opts.stores?.rateLimitStore;
  const app = createApp(config, { backend: pool, voices, audio, logger, clock, ...(rateLimitStore ? { rateLimitStore } : {}), ...(opts.cache ? { cache: opts.cache } : {}), ...(opts.metrics ? { metrics: opts.metrics } : {}), ...(opts.shutdown ? { shutdown: opts.shutdown } : {}) });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    config,
    voices,
    audio,
    slots,
    pool,
    logLines,
    async api(path, init) {
      const res = await fetch(url + path, init);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const type = res.headers.get("content-type") ?? "";
      const json = /json/.test(type) && bytes.length > 0 ? JSON.parse(Buffer.from(bytes).toString("utf8")) : undefined;
      contract.check(init?.method ?? "GET", path, res.status, res.headers.get("content-type"), json);
      return { status: res.status, headers: res.headers, json, bytes };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      if (!opts.stores) await audio.close();
    },
  };
}

/** A multipart body for POST /voices (shared with the fault suite through the testkit). */
export { voiceForm } from "@cosyvoice3/testkit";

export const jsonPost = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});
