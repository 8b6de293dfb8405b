/** The HLS follower hands out every segment exactly once, in order, as the playlist grows. */
import { describe, expect, it } from "vitest";
import { PlaylistFollower, parsePlaylist } from "../src/internal/hls.ts";
import { SegmentChannel } from "../src/internal/segment-channel.ts";

const head = "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-TARGETDURATION:8\n#EXT-X-VERSION:4\n#EXT-X-MEDIA-SEQUENCE:0\n";
const seg = (id: string, s: number) => `#EXTINF:${s.toFixed(3)},\n${id}.aac\n`;

describe("parsePlaylist", () => {
  it("reads durations, names and the end marker", () => {
    const p = parsePlaylist(head + seg("a", 0.5) + seg("b", 1.25) + "#EXT-X-ENDLIST\n");
    expect(p).toEqual({ segments: [{ uri: "a.aac", durationMs: 500 }, { uri: "b.aac", durationMs: 1250 }], ended: true });
    expect(parsePlaylist(head).segments).toEqual([]);
  });
});

describe("PlaylistFollower", () => {
  it("yields each segment once across growing playlists, with absolute URLs", () => {
    const f = new PlaylistFollower("http://h/gradio_api/stream/s/1/14/playlist.m3u8");
    const first = f.take(parsePlaylist(head + seg("a", 1)));
    expect(first.map((s) => [s.index, s.url])).toEqual([[0, "http://h/gradio_api/stream/s/1/14/a.aac"]]);
    expect(f.take(parsePlaylist(head + seg("a", 1)))).toEqual([]);
    const next = f.take(parsePlaylist(head + seg("a", 1) + seg("b", 1) + seg("c", 1) + "#EXT-X-ENDLIST"));
    expect(next.map((s) => s.index)).toEqual([1, 2]);
    expect(f.ended).toBe(true);
    expect(f.count).toBe(3);
  });
  it("a repeated segment name is not handed out twice", () => {
    const f = new PlaylistFollower("http://h/p/playlist.m3u8");
    expect(f.take(parsePlaylist(head + seg("a", 1) + seg("a", 1))).length).toBe(1);
  });
});

describe("SegmentChannel", () => {
  it("delivers pushed items, then the end", async () => {
    const q = new SegmentChannel<number>(4);
    const first = q.next();
    q.push(1);
    q.push(2);
    q.end();
    expect(await first).toEqual({ value: 1, done: false });
    expect(await q.next()).toEqual({ value: 2, done: false });
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });
  it("delivers items pushed before a failure, then the failure", async () => {
    const q = new SegmentChannel<number>(4);
    q.push(1);
    q.fail(new Error("boom"));
    expect(await q.next()).toEqual({ value: 1, done: false });
    await expect(q.next()).rejects.toThrow("boom");
  });
  it("makes the producer wait once highWaterMark items are unread, and frees it when one is read", async () => {
    const q = new SegmentChannel<number>(1);
    await q.ready();
    q.push(1);
    let ready = false;
    const waiting = q.ready().then(() => (ready = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(ready).toBe(false);
    expect(await q.next()).toEqual({ value: 1, done: false });
    await waiting;
    expect(ready).toBe(true);
  });
  it("a reader that cancels makes the waiting producer fail", async () => {
    const q = new SegmentChannel<number>(1);
    q.push(1);
    const waiting = q.ready();
    q.cancel();
    await expect(waiting).rejects.toBeUndefined();
  });
});
