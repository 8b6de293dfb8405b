import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { newId } from "../src/platform/ids.ts";
import { DiskAudioStore } from "../src/platform/stores/audio-store.ts";
import { DiskVoiceStore } from "../src/platform/stores/voice-store.ts";

const dir = () => mkdtempSync(join(tmpdir(), "gw-store-"));
const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe("DiskAudioStore", () => {
  it("expires clips after the TTL", async () => {
    let now = 1_000_000;
    const store = await DiskAudioStore.open(dir(), { ttlMs: 1000, maxBytes: 1e9, now: () => now });
    const id = newId("a_");
    await store.put({ id, mimeType: "audio/wav" }, bytes(10));
    expect(await store.stat(id)).toMatchObject({ bytes: 10, expiresAt: 1_001_000 });
    now += 1000;
    expect(await store.stat(id)).toBeUndefined();
    expect(await store.read(id)).toBeUndefined();
    await store.sweep();
    expect(readdirSync(join(store["dir"]))).toEqual([]);
    await store.close();
  });

  it("keeps the total under the cap by dropping the oldest clips", async () => {
    let now = 0;
    const store = await DiskAudioStore.open(dir(), { ttlMs: 1e9, maxBytes: 250, now: () => now++ });
    const ids = [newId("a_"), newId("a_"), newId("a_")];
    for (const id of ids) await store.put({ id, mimeType: "audio/wav" }, bytes(100));
    expect(await store.stat(ids[0]!)).toBeUndefined();
    expect(await store.stat(ids[1]!)).toBeDefined();
    expect(await store.stat(ids[2]!)).toBeDefined();
    await store.close();
  });

  it("reads ranges and survives a restart; leaves no temp files", async () => {
    const d = dir();
    const store = await DiskAudioStore.open(d, { ttlMs: 1e9, maxBytes: 1e9 });
    const id = newId("a_");
    await store.put({ id, mimeType: "audio/aac", durationMs: 1500 }, new TextEncoder().encode("0123456789"));
    expect(await text((await store.read(id, { start: 2, end: 4 }))!)).toBe("234");
    await store.close();
    const again = await DiskAudioStore.open(d, { ttlMs: 1e9, maxBytes: 1e9 });
    expect(await again.stat(id)).toMatchObject({ mimeType: "audio/aac", bytes: 10, durationMs: 1500 });
    expect(readdirSync(d).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    await again.close();
  });

  it("drops a clip torn by a crash (bytes shorter than its metadata) when it reopens", async () => {
    const d = dir();
    const store = await DiskAudioStore.open(d, { ttlMs: 1e9, maxBytes: 1e9 });
    const torn = newId("a_");
    const whole = newId("a_");
    await store.put({ id: torn, mimeType: "audio/wav" }, bytes(100));
    await store.put({ id: whole, mimeType: "audio/wav" }, bytes(100));
    await store.close();
    // Clips are written without fsync; a power loss may leave a short or empty file behind.
    writeFileSync(join(d, `${torn}.audio`), bytes(10));
    const again = await DiskAudioStore.open(d, { ttlMs: 1e9, maxBytes: 1e9 });
    expect(await again.stat(torn)).toBeUndefined();
    expect(await again.stat(whole)).toMatchObject({ bytes: 100 });
    expect(readdirSync(d).filter((n) => n.startsWith(torn))).toEqual([]);
    await again.close();
  });

  it("drops bytes whose metadata never landed (a crash between the two writes) when it reopens", async () => {
    const d = dir();
    const store = await DiskAudioStore.open(d, { ttlMs: 1e9, maxBytes: 1e9 });
    const id = newId("a_");
    await store.put({ id, mimeType: "audio/wav" }, bytes(100));
    await store.close();
    const orphan = newId("a_");
    writeFileSync(join(d, `${orphan}.audio`), bytes(50));
    const again = await DiskAudioStore.open(d, { ttlMs: 1e9, maxBytes: 1e9 });
    expect(readdirSync(d).sort()).toEqual([`${id}.audio`, `${id}.json`].sort());
    expect(await again.stat(id)).toMatchObject({ bytes: 100 });
    await again.close();
  });

  it("after a reopen it still evicts the oldest clip first, whatever order the directory lists", async () => {
    const d = dir();
    let now = 1_000;
    const store = await DiskAudioStore.open(d, { ttlMs: 1e9, maxBytes: 1e9, now: () => now++ });
    const ids = Array.from({ length: 6 }, () => newId("a_"));
    for (const id of ids) await store.put({ id, mimeType: "audio/wav" }, bytes(100));
    await store.close();
    // Cap 600 bytes: a 300-byte put must push out the three oldest 100-byte clips, not any three.
    const again = await DiskAudioStore.open(d, { ttlMs: 1e9, maxBytes: 600, now: () => now++ });
    const newest = newId("a_");
    await again.put({ id: newest, mimeType: "audio/wav" }, bytes(300));
    const kept = await Promise.all([...ids, newest].map(async (id) => (await again.stat(id)) !== undefined));
    expect(kept).toEqual([false, false, false, true, true, true, true]);
    await again.close();
  });

  it("refuses an id that is not one of ours", async () => {
    const store = await DiskAudioStore.open(dir(), { ttlMs: 1e9, maxBytes: 1e9 });
    await expect(store.put({ id: "../x", mimeType: "audio/wav" }, bytes(1))).rejects.toThrow();
    await store.close();
  });

  it("writes a new clip in place but replaces a stored one atomically: a reader of the old bytes still gets them whole", async () => {
    const d = dir();
    const store = await DiskAudioStore.open(d, { ttlMs: 1e9, maxBytes: 1e9 });
    const id = newId("a_");
    await store.put({ id, mimeType: "audio/wav" }, bytes(100, 1));
    const old = (await store.read(id))!;
    await new Promise((r) => old.once("open", r));
    // A cache re-puts a key's clip; a client may be streaming the one it replaces.
    await store.put({ id, mimeType: "audio/wav" }, bytes(200, 2));
    const seen = Buffer.concat(await old.toArray());
    expect(seen).toEqual(Buffer.from(bytes(100, 1)));
    expect(Buffer.concat(await (await store.read(id))!.toArray())).toEqual(Buffer.from(bytes(200, 2)));
    expect(await store.stat(id)).toMatchObject({ bytes: 200 });
    expect(readdirSync(d).sort()).toEqual([`${id}.audio`, `${id}.json`].sort());
    await store.close();
  });

  it("two puts of one id at once leave one whole clip, its bytes matching its metadata after a reopen", async () => {
    // Many rounds: the two puts' file writes interleave differently from one round to the next
    // (a single round once passed or failed by chance: bytes of one put, metadata of the other).
    const d = dir();
    const store = await DiskAudioStore.open(d, { ttlMs: 1e9, maxBytes: 1e9 });
    const ids = Array.from({ length: 200 }, () => newId("a_"));
    const puts = await Promise.all(ids.map((id) => Promise.all([store.put({ id, mimeType: "audio/wav" }, bytes(100, 1)), store.put({ id, mimeType: "audio/wav" }, bytes(300, 2))])));
    // The later put wins, in memory as on disk.
    for (const [first, second] of puts) expect([first.bytes, second.bytes]).toEqual([100, 300]);
    for (const id of ids) expect(await store.stat(id)).toMatchObject({ bytes: 300 });
    await store.close();
    const again = await DiskAudioStore.open(d, { ttlMs: 1e9, maxBytes: 1e9 });
    for (const id of ids) {
      expect(await again.stat(id)).toMatchObject({ id, bytes: 300 });
      expect(Buffer.concat(await (await again.read(id))!.toArray())).toEqual(Buffer.from(bytes(300, 2)));
    }
    expect(readdirSync(d).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    await again.close();
  });

  it("a put that fails does not hold up the next put of its id", async () => {
    const store = await DiskAudioStore.open(dir(), { ttlMs: 1e9, maxBytes: 1e9 });
    const id = newId("a_");
    const bad = store.put({ id, mimeType: "audio/wav" }, 42 as never);
    const good = store.put({ id, mimeType: "audio/wav" }, bytes(20));
    await expect(bad).rejects.toThrow();
    expect(await good).toMatchObject({ bytes: 20 });
    await store.close();
  });
});

describe("DiskVoiceStore", () => {
  it("persists the registry so saved voices survive a restart", async () => {
    const d = dir();
    const store = await DiskVoiceStore.open(d);
    const audio = { mimeType: "audio/wav", ext: "wav", bytes: 3, sampleRate: 24_000, durationMs: 3000 };
    const a = await store.create({ owner: "anonymous", name: "Ann", promptText: "Hi.", audio, data: bytes(3, 7) });
    const b = await store.create({ owner: "anonymous", name: "Bob", audio, data: bytes(3, 8) });
    await store.delete(b.id);
    const again = await DiskVoiceStore.open(d);
    expect(await again.list()).toEqual([a]);
    expect(await again.readAudio(a.id)).toEqual(bytes(3, 7));
    expect(await again.readAudio(b.id)).toBeUndefined();
  });

  it("serialises concurrent creates so none is lost", async () => {
    const d = dir();
    const store = await DiskVoiceStore.open(d);
    const audio = { mimeType: "audio/wav", ext: "wav", bytes: 1, sampleRate: 16_000, durationMs: 1000 };
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.create({ owner: "anonymous", name: `v${i}`, audio, data: bytes(1) })));
    expect(await (await DiskVoiceStore.open(d)).list()).toHaveLength(20);
  });
});
