/**
 * One backend's cap held in a real Redis by two "instances" (each its own connection and
 * RedisSlots): together they never run more than the cap, the shared line is first come first
 * served, a release on one instance wakes a waiter on the other, and an instance that dies
 * without releasing frees its slot when the lease expires.
 */
import { randomUUID } from "node:crypto";
import { startRedis, type RedisHandle } from "@cosyvoice3/testkit";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisSlots } from "../src/service/caps/index.ts";

let redis: RedisHandle;
const connections: Redis[] = [];
const slotsList: RedisSlots[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(slotsList.map((s) => s.close()));
  for (const c of connections) c.disconnect();
  await redis?.stop();
});

function instance(key: string, opts: { concurrency: number; queueSize: number; leaseTtlMs?: number }) {
  const conn = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  connections.push(conn);
  const slots = new RedisSlots({ redis: conn, key, logger: pino({ level: "silent" }), ...opts });
  slotsList.push(slots);
  return { conn, slots };
}

describe("a cap of 1 over two instances", () => {
  it("the second instance is refused while the first holds the slot, and gets it after the release", async () => {
    const key = `t-${randomUUID()}:cap:b1:`;
    const a = instance(key, { concurrency: 1, queueSize: 0 });
    const b = instance(key, { concurrency: 1, queueSize: 0 });
    const release = await a.slots.acquire();
    await expect(b.slots.acquire()).rejects.toMatchObject({ code: "busy", retryAfterMs: expect.any(Number) });
    expect(b.slots.shared).toEqual({ running: 1, waiting: 0 });
    expect(b.slots.hasRoom).toBe(false);
    release();
    await new Promise((r) => setTimeout(r, 50));
    const again = await b.slots.acquire();
    expect(b.slots.load).toEqual({ running: 1, waiting: 0 });
    again();
  });

  it("a waiter on one instance takes the slot the other releases, in order, and never two at once", async () => {
    const key = `t-${randomUUID()}:cap:b1:`;
    const a = instance(key, { concurrency: 1, queueSize: 2 });
    const b = instance(key, { concurrency: 1, queueSize: 2 });
    let running = 0;
    let most = 0;
    const order: string[] = [];
    const job = async (who: string, slots: RedisSlots) => {
      const release = await slots.acquire();
      order.push(who);
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 150));
      running--;
      release();
    };
    // Each job is in its place (running, or in the shared line) before the next one asks: a fixed
    // pause was not enough on a loaded machine, where a Redis round trip can take longer.
    const placed = async (pred: () => boolean) => {
      for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(pred()).toBe(true);
    };
    const first = job("a1", a.slots);
    await placed(() => a.slots.load.running === 1);
    const second = job("b1", b.slots);
    await placed(() => b.slots.load.waiting === 1);
    const third = job("a2", a.slots);
    await placed(() => a.slots.load.waiting === 1);
    // The line (2) is full: a fourth is refused at once wherever it comes from.
    await expect(b.slots.acquire()).rejects.toMatchObject({ code: "busy" });
    await Promise.all([first, second, third]);
    expect(order).toEqual(["a1", "b1", "a2"]);
    expect(most).toBe(1);
    await Promise.all([a.slots.idle(), b.slots.idle()]);
  });

  it("a waiter that gives up leaves the line", async () => {
    const key = `t-${randomUUID()}:cap:b1:`;
    const a = instance(key, { concurrency: 1, queueSize: 1 });
    const release = await a.slots.acquire();
    const controller = new AbortController();
    const waiting = a.slots.acquire(controller.signal);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.slots.load).toEqual({ running: 1, waiting: 1 });
    controller.abort(new Error("client gone"));
    await expect(waiting).rejects.toThrow("client gone");
    expect(a.slots.load).toEqual({ running: 1, waiting: 0 });
    const b = instance(key, { concurrency: 1, queueSize: 1 });
    // The place is free again: b can queue (and is not refused).
    const queued = b.slots.acquire();
    release();
    (await queued)();
  });

  it("an instance that dies holding the slot frees it within the lease time", async () => {
    const key = `t-${randomUUID()}:cap:b1:`;
    const dying = instance(key, { concurrency: 1, queueSize: 1, leaseTtlMs: 1_000 });
    const survivor = instance(key, { concurrency: 1, queueSize: 1, leaseTtlMs: 1_000 });
    await dying.slots.acquire();
    // A crash: no release, no more renewals, the connection gone.
    await dying.slots.close();
    dying.conn.disconnect();
    const started = Date.now();
    const release = await survivor.slots.acquire();
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThan(300);
    expect(waited).toBeLessThan(5_000);
    release();
  });

  it("a held slot outlives its TTL while its instance renews it", async () => {
    const key = `t-${randomUUID()}:cap:b1:`;
    const a = instance(key, { concurrency: 1, queueSize: 0, leaseTtlMs: 300 });
    const b = instance(key, { concurrency: 1, queueSize: 0, leaseTtlMs: 300 });
    const release = await a.slots.acquire();
    await new Promise((r) => setTimeout(r, 1_000));
    await expect(b.slots.acquire()).rejects.toMatchObject({ code: "busy" });
    release();
  });
});
