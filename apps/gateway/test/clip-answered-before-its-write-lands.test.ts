/**
 * The write-behind audio store: a put is answered before the disk write lands, the clip is served
 * (whole and by range) from memory until it does, then from disk; past the pending-bytes bound a
 * put waits for its write; closing waits for every write in flight.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { newId } from "../src/platform/ids.ts";
import { DiskAudioStore, type AudioStore } from "../src/platform/stores/audio-store.ts";
import { WriteBehindAudioStore } from "../src/platform/stores/write-behind-audio-store.ts";

/** A disk store whose writes wait for `release()`. */
async function gatedDisk() {
  const disk = await DiskAudioStore.open(join(mkdtempSync(join(tmpdir(), "wb-")), "audio"), { ttlMs: 60_000, maxBytes: 10_000_000 });
  let open!: () => void;
  let gate = new Promise<void>((r) => (open = r));
  const store: AudioStore = {
    put: async (a, d) => {
      await gate;
      return disk.put(a, d);
    },
    stat: (id) => disk.stat(id),
    read: (id, r) => disk.read(id, r),
    close: () => disk.close(),
  };
  return {
    disk,
    store,
    release() {
      open();
      gate = Promise.resolve();
    },
  };
}

const bytesOf = async (s: AsyncIterable<unknown> | undefined) => {
  const parts: Buffer[] = [];
  for await (const p of s ?? []) parts.push(p as Buffer);
  return Buffer.concat(parts);
};

describe("WriteBehindAudioStore", () => {
  it("answers before the write lands and serves the clip from memory, then from disk", async () => {
    const g = await gatedDisk();
    const wb = new WriteBehindAudioStore(g.store, { ttlMs: 60_000, logger: pino({ level: "silent" }) });
    const id = newId("a_");
    const data = Buffer.from("0123456789");
    const meta = await wb.put({ id, mimeType: "audio/wav" }, data);
    expect(meta).toMatchObject({ id, bytes: 10, mimeType: "audio/wav" });
    expect(await g.disk.stat(id)).toBeUndefined();
    expect(wb.backlog).toBe(10);
    expect(await wb.stat(id)).toEqual(meta);
    expect((await bytesOf(await wb.read(id))).toString()).toBe("0123456789");
    expect((await bytesOf(await wb.read(id, { start: 2, end: 4 }))).toString()).toBe("234");
    g.release();
    // Written in the background: wait for it (a bound, not a timing assertion).
    for (let i = 0; i < 200 && wb.backlog > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(wb.backlog).toBe(0);
    // The ETag answered at once (computed when first read) is the one the disk store keeps.
    expect((await g.disk.stat(id))?.etag).toBe(meta.etag);
    expect(JSON.parse(JSON.stringify(meta)).etag).toBe(meta.etag);
    expect((await bytesOf(await wb.read(id, { start: 2, end: 4 }))).toString()).toBe("234");
  });

  it("past its bound a put waits for its own write", async () => {
    const g = await gatedDisk();
    const wb = new WriteBehindAudioStore(g.store, { ttlMs: 60_000, maxPendingBytes: 15, logger: pino({ level: "silent" }) });
    await wb.put({ id: newId("a_"), mimeType: "audio/wav" }, Buffer.alloc(10));
    let second = false;
    const p = wb.put({ id: newId("a_"), mimeType: "audio/wav" }, Buffer.alloc(10)).then(() => (second = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(second).toBe(false);
    g.release();
    await p;
    expect(second).toBe(true);
  });

  it("close waits for the writes in flight", async () => {
    const g = await gatedDisk();
    const wb = new WriteBehindAudioStore(g.store, { ttlMs: 60_000, logger: pino({ level: "silent" }) });
    const id = newId("a_");
    await wb.put({ id, mimeType: "audio/wav" }, Buffer.alloc(4));
    const closed = wb.close();
    setTimeout(() => g.release(), 30);
    await closed;
    expect(await g.disk.stat(id)).toBeDefined();
  });
});
