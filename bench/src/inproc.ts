/**
 * The gateway in this process, built from its library entry with the real SDK backend, and
 * instrumented from outside (no change to its code): each request runs in an AsyncLocalStorage
 * context; a wrapper around the injected backend times the SDK call (and the first streamed
 * chunk), and a Slots subclass times the wait for a job slot. So the cost the gateway adds to
 * one request is measured paired: client latency minus the SDK call minus the slot wait.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  backendFor,
  createApp,
  parseBackendAddress,
  defaultConfig,
  DiskAudioStore,
  WriteBehindAudioStore,
  DiskVoiceStore,
  Slots,
  type AudioStore,
  type GatewayConfig,
  type SynthesisBackend,
} from "cosyvoice3-gateway";
import { pino } from "pino";

/** What the instrumentation saw of one request. @unit milliseconds (performance.now clock) */
export interface Trace {
  slotWaitMs: number;
  sdkMs: number;
  /** Time in the audio store's put (atomic write: temp file, fsync, rename, metadata). */
  storeMs: number;
  /** When the SDK's stream yielded its first chunk. */
  firstChunkAt?: number;
  /** Marks on the same clock, for finding where the own time goes: the request reached the server, the (last) SDK call started and ended, the response finished. */
  arrivedAt?: number;
  sdkStartAt?: number;
  sdkEndAt?: number;
  finishedAt?: number;
}

class TimedSlots extends Slots {
  constructor(
    opts: { concurrency: number; queueSize: number },
    private readonly als: AsyncLocalStorage<Trace>,
  ) {
    super(opts);
  }
  override async acquire(...args: Parameters<Slots["acquire"]>): Promise<() => void> {
    const t = performance.now();
    const release = await super.acquire(...args);
    const trace = this.als.getStore();
    if (trace) trace.slotWaitMs += performance.now() - t;
    return release;
  }
}

function timedBackend(inner: SynthesisBackend, als: AsyncLocalStorage<Trace>): SynthesisBackend {
  return {
    info: () => inner.info(),
    probe: () => inner.probe(),
    listVoices: () => inner.listVoices(),
    close: () => inner.close(),
    async synthesize(request, options) {
      const t = performance.now();
      const started = als.getStore();
      if (started) started.sdkStartAt = t;
      try {
        return await inner.synthesize(request, options);
      } finally {
        const trace = als.getStore();
        if (trace) {
          trace.sdkEndAt = performance.now();
          trace.sdkMs += trace.sdkEndAt - t;
        }
      }
    },
    async *stream(request, options) {
      const t = performance.now();
      try {
        for await (const chunk of inner.stream(request, options)) {
          const trace = als.getStore();
          if (trace && trace.firstChunkAt === undefined) trace.firstChunkAt = performance.now();
          yield chunk;
        }
      } finally {
        const trace = als.getStore();
        if (trace) trace.sdkMs += performance.now() - t;
      }
    },
  };
}

/** An instrumented gateway listening on loopback. */
export interface InProcessGateway {
  url: string;
  /** The trace of a finished request, by the X-Request-Id the client sent. */
  trace(requestId: string): Trace | undefined;
  close(): Promise<void>;
}

/**
 * @example const gw = await startInProcessGateway(standin.url, "cosyvoice1", { concurrency: 2, queueSize: 64 });
 * @example const gw = await startInProcessGateway(`fastapi+${standin.url}`, "cosyvoice1");
 */
export async function startInProcessGateway(
  backendUrl: string,
  model: GatewayConfig["model"],
  overrides: Partial<GatewayConfig> = {},
): Promise<InProcessGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), "bench-inproc-"));
  const config = defaultConfig({
    dataDir,
    model,
    cosyvoiceUrls: [backendUrl],
    rateLimit: { windowMs: 60_000, synthesize: 1e9, upload: 1e9, read: 1e9 },
    logLevel: "warn",
    ...overrides,
  });
  const als = new AsyncLocalStorage<Trace>();
  // Any kind: `fastapi+http://...` names the official FastAPI server; a bare URL is probed.
  const inner = backendFor(parseBackendAddress(backendUrl), { model, timeoutMs: config.upstreamTimeoutMs, maxRetries: 0 });
  const backend = timedBackend(inner, als);
  const voices = await DiskVoiceStore.open(join(dataDir, "voices"));
  const disk = await DiskAudioStore.open(join(dataDir, "audio"), { ttlMs: config.audioTtlMs, maxBytes: config.audioMaxBytes });
  const timed: AudioStore = {
    stat: (id) => disk.stat(id),
    read: (id, range) => disk.read(id, range),
    close: () => disk.close(),
    async put(meta, data) {
      const t = performance.now();
      try {
        return await disk.put(meta, data);
      } finally {
        const trace = als.getStore();
        if (trace) trace.storeMs += performance.now() - t;
      }
    },
  };
  // As `openStores` builds it for STORE=disk: answered before the write lands (AUDIO_WRITE_BEHIND_BYTES).
  const audio: AudioStore =
    config.audioWriteBehindBytes > 0 ? new WriteBehindAudioStore(timed, { ttlMs: config.audioTtlMs, maxPendingBytes: config.audioWriteBehindBytes, logger: pino({ level: "warn" }) }) : timed;
  const slots = new TimedSlots({ concurrency: config.concurrency, queueSize: config.queueSize }, als);
  const app = createApp(config, { backend, voices, audio, slots, logger: pino({ level: "warn" }) });
  const traces = new Map<string, Trace>();
  const server: Server = createServer((req, res) => {
    const trace: Trace = { slotWaitMs: 0, sdkMs: 0, storeMs: 0, arrivedAt: performance.now() };
    res.once("finish", () => (trace.finishedAt = performance.now()));
    const id = req.headers["x-request-id"];
    if (typeof id === "string") traces.set(id, trace);
    als.run(trace, () => app(req, res));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    trace: (id) => traces.get(id),
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await backend.close();
      await audio.close();
    },
  };
}
