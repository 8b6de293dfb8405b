/**
 * Builds the narration jobs of one gateway from its configuration: the store and queue its
 * STORE names (disk + the embedded queue, or Redis + BullMQ), the worker over the synthesis
 * service, the events, the webhooks.
 */
import { join } from "node:path";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { GatewayConfig } from "../platform/config.ts";
import type { Encoders } from "../service/encode/encoders.ts";
import type { BackendPool } from "../backends/pool/index.ts";
import type { AudioStore } from "../platform/stores/audio-store.ts";
import type { VoiceStore } from "../platform/stores/voice-store.ts";
import type { SynthesisService } from "../service/synthesis/service.ts";
import type { BullJobQueue } from "./bull-queue.ts";
import { DiskJobStore } from "./disk-store.ts";
import { localJobEvents, redisJobEvents, type JobEvents } from "./events.ts";
import { LocalJobQueue } from "./local-queue.ts";
import type { JobQueue } from "./queue.ts";
import { createSegmentRunner } from "./segment-runner.ts";
import { createJobService, type JobService } from "./service.ts";
import type { JobStore } from "./store.ts";
import { createWebhooks } from "./webhooks.ts";
import { createJobWorker } from "./worker.ts";

/** The jobs of one gateway, opened. */
export interface Jobs {
  service: JobService;
  store: JobStore;
  /** Starts taking jobs (unfinished ones first). */
  start(): Promise<void>;
  /** Stops: running jobs are interrupted where they stand and resume later (here or elsewhere). */
  close(): Promise<void>;
}

/** What {@link openJobs} needs besides the configuration. */
export interface JobsDeps {
  synthesis: SynthesisService;
  pool: BackendPool;
  voices: VoiceStore;
  audio: AudioStore;
  encoders: Encoders;
  logger: Logger;
}

/** Segments of one job at once: one per background slot of every backend. */
function backgroundSlots(pool: BackendPool): number {
  return pool.backends().reduce((n, b) => n + Math.max(1, b.concurrency - 1), 0);
}

/** The parts of the jobs that are opened before the app is built (a folder, a subscription). */
export interface JobParts {
  store: JobStore;
  events: JobEvents;
  /** With STORE=redis: BullMQ's queue (loaded only then: BullMQ and its Redis client cost memory at start). */
  bull?: typeof BullJobQueue;
}

/**
 * Opens the job store and the events STORE names.
 * @example const parts = await openJobParts(config, logger, stores.redis);
 */
export async function openJobParts(config: GatewayConfig, logger: Logger, redis?: Redis): Promise<JobParts> {
  if (config.store === "redis") {
    if (!redis) throw new Error("STORE=redis jobs need the Redis connection");
    const [{ RedisJobStore }, { BullJobQueue }] = await Promise.all([import("./redis-store.ts"), import("./bull-queue.ts")]);
    return { store: new RedisJobStore(redis, config.redisKeyPrefix), events: await redisJobEvents(redis, config.redisKeyPrefix, logger), bull: BullJobQueue };
  }
  return { store: await DiskJobStore.open(join(config.dataDir, "jobs")), events: localJobEvents() };
}

/**
 * Builds the jobs over opened parts and the app's synthesis service (`createApp` calls it).
 * @example
 * const parts = await openJobParts(config, logger, redis);
 * const app = createApp(config, { ..., jobs: (p) => (jobs = createJobs(config, parts, p)) });
 * await jobs.start();
 */
export function createJobs(config: GatewayConfig, parts: JobParts, deps: JobsDeps): Jobs {
  const logger = deps.logger.child({ component: "jobs" });
  const { store, events } = parts;
  const shared = config.store === "redis";
  const runner = createSegmentRunner({ synthesis: deps.synthesis, pool: deps.pool, voices: deps.voices, audio: deps.audio, timeoutMs: Math.max(config.upstreamTimeoutMs, 120_000) });
  const hooks = config.webhooks.secret
    ? createWebhooks({
      secret: config.webhooks.secret,
      allowPrivate: config.webhooks.allowPrivate,
      maxAttempts: config.webhooks.maxAttempts,
      firstRetryMs: config.webhooks.firstRetryMs,
      timeoutMs: config.webhooks.timeoutMs,
      logger,
    })
    : undefined;
  const worker = createJobWorker({
    store,
    runner,
    events,
    audio: deps.audio,
    encoders: deps.encoders,
    logger,
    ...(hooks ? { webhooks: hooks } : {}),
    parallel: () => config.jobs.parallelSegments || backgroundSlots(deps.pool),
    segmentAttempts: config.jobs.segmentAttempts,
    ttlMs: config.jobs.ttlMs,
  });
  if (shared && !parts.bull) throw new Error("STORE=redis jobs need the parts openJobParts opened");
  const queue: JobQueue = parts.bull
    ? new parts.bull({ redisUrl: config.redisUrl as string, prefix: config.redisKeyPrefix, worker, concurrency: config.jobs.concurrency, lockMs: config.jobs.lockMs, startsPerMinute: config.jobs.startsPerMinute, logger })
    : new LocalJobQueue({ store, worker, concurrency: config.jobs.concurrency, logger });
  const service = createJobService({
    store,
    queue,
    worker,
    runner,
    events,
    segmentChars: config.jobs.segmentChars,
    ttlMs: config.jobs.ttlMs,
    quota: { segments: config.jobs.segmentQuota, windowMs: config.jobs.quotaWindowMs },
    webhooks: { enabled: hooks !== undefined, allowPrivate: config.webhooks.allowPrivate },
  });
  let closed: Promise<void> | undefined;
  return {
    service,
    store,
    start: () => queue.start(),
    close() {
      closed ??= (async () => {
        await queue.close();
        await events.close();
        await store.close();
      })();
      return closed;
    },
  };
}
