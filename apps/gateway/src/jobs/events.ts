/**
 * What happens to jobs, told to whoever listens: the SSE door follows a job's progress, and a
 * cancel reaches the instance running the job. In one process an EventEmitter; over several
 * instances a Redis channel each (a job runs on one instance, its watchers may be on another).
 */
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { JobStatus } from "./model.ts";

/** One event of a job. */
export type JobEvent =
  | { type: "progress"; id: string; done: number; total: number }
  | { type: "status"; id: string; status: JobStatus };

/** The events and cancels of every job. */
export interface JobEvents {
  publish(event: JobEvent): void;
  /** Calls `fn` with each event of job `id`; answers the unsubscribe. */
  follow(id: string, fn: (e: JobEvent) => void): () => void;
  /** Asks the instance running job `id` to stop it now (its running segments are cancelled upstream). */
  cancel(id: string): void;
  /** Calls `fn` with each job id whose cancel was asked, on any instance. */
  onCancel(fn: (id: string) => void): void;
  close(): Promise<void>;
}

/**
 * @example const events = localJobEvents(); events.follow(id, (e) => send(e));
 */
export function localJobEvents(): JobEvents {
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  return {
    publish: (e) => void bus.emit(`job:${e.id}`, e),
    follow(id, fn) {
      bus.on(`job:${id}`, fn);
      return () => void bus.off(`job:${id}`, fn);
    },
    cancel: (id) => void bus.emit("cancel", id),
    onCancel: (fn) => void bus.on("cancel", fn),
    close: async () => void bus.removeAllListeners(),
  };
}

/**
 * Events over Redis pub/sub: one subscriber connection, fanned out in this process.
 * @example const events = await redisJobEvents(redis, "cosyvoice3-gateway:", logger);
 */
export async function redisJobEvents(redis: Redis, prefix: string, logger: Logger): Promise<JobEvents> {
  const local = localJobEvents();
  const eventsChannel = `${prefix}jobs:events`;
  const cancelChannel = `${prefix}jobs:cancel`;
  const sub = redis.duplicate();
  sub.on("error", () => undefined);
  sub.on("message", (channel: string, message: string) => {
    if (channel === cancelChannel) return local.cancel(message);
    try {
      local.publish(JSON.parse(message) as JobEvent);
    } catch {
      // Not ours.
    }
  });
  await sub.subscribe(eventsChannel, cancelChannel);
  const send = (channel: string, message: string) =>
    void redis.publish(channel, message).catch((err: unknown) => logger.warn({ err: (err as Error).message }, "job event not published"));
  return {
    publish: (e) => send(eventsChannel, JSON.stringify(e)),
    follow: local.follow,
    cancel: (id) => send(cancelChannel, id),
    onCancel: local.onCancel,
    async close() {
      await local.close();
      await sub.quit().catch(() => sub.disconnect());
    },
  };
}
