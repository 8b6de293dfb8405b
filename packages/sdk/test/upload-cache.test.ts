/** A reused prompt is not uploaded again while the server has it; a lost one is uploaded again. */
import { describe, expect, it } from "vitest";
import { UploadCache } from "../src/internal/upload-cache.ts";

function setup(verifyAfterMs: number) {
  let now = 0;
  const cache = new UploadCache({ verifyAfterMs, maxEntries: 2, now: () => now });
  const server = new Set<string>();
  let n = 0;
  const upload = async () => {
    const path = `/tmp/gradio/${++n}/voice.wav`;
    server.add(path);
    return path;
  };
  const has = async (p: string) => server.has(p);
  return { cache, server, upload, has, tick: (ms: number) => (now += ms) };
}

describe("UploadCache", () => {
  it("the same content is uploaded once while fresh", async () => {
    const { cache, upload, has } = setup(60_000);
    const k = UploadCache.key(new Uint8Array([1, 2]), "voice.wav");
    expect(await cache.get(k, upload, has)).toBe("/tmp/gradio/1/voice.wav");
    expect(await cache.get(k, upload, has)).toBe("/tmp/gradio/1/voice.wav");
    expect(cache.uploads).toBe(1);
  });
  it("when stale, a path the server still has is verified, not re-uploaded", async () => {
    const { cache, upload, has, tick } = setup(1000);
    const k = UploadCache.key(new Uint8Array([1]), "a.wav");
    await cache.get(k, upload, has);
    tick(5000);
    expect(await cache.get(k, upload, has)).toBe("/tmp/gradio/1/voice.wav");
    expect(cache.uploads).toBe(1);
  });
  it("when the server lost the file, it is uploaded again", async () => {
    const { cache, server, upload, has, tick } = setup(1000);
    const k = UploadCache.key(new Uint8Array([1]), "a.wav");
    await cache.get(k, upload, has);
    server.clear();
    tick(5000);
    expect(await cache.get(k, upload, has)).toBe("/tmp/gradio/2/voice.wav");
    expect(cache.uploads).toBe(2);
  });
  it("concurrent calls with one prompt share one upload", async () => {
    const { cache, upload, has } = setup(60_000);
    const k = UploadCache.key(new Uint8Array([9]), "a.wav");
    const paths = await Promise.all([cache.get(k, upload, has), cache.get(k, upload, has), cache.get(k, upload, has)]);
    expect(new Set(paths).size).toBe(1);
    expect(cache.uploads).toBe(1);
  });
  it("a failed upload is not remembered; content and name both make the key", async () => {
    const { cache, upload, has } = setup(60_000);
    const k = UploadCache.key(new Uint8Array([3]), "a.wav");
    await expect(cache.get(k, () => Promise.reject(new Error("down")), has)).rejects.toThrow("down");
    expect(await cache.get(k, upload, has)).toBe("/tmp/gradio/1/voice.wav");
    expect(UploadCache.key(new Uint8Array([3]), "b.wav")).not.toBe(k);
  });
  it("keeps at most maxEntries", async () => {
    const { cache, upload, has } = setup(60_000);
    for (const b of [1, 2, 3]) await cache.get(UploadCache.key(new Uint8Array([b]), "x"), upload, has);
    await cache.get(UploadCache.key(new Uint8Array([1]), "x"), upload, has);
    expect(cache.uploads).toBe(4);
  });
});
