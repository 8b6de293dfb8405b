import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";

const backend = new FakeBackend();
let gw: TestGateway;
let id: string;
let whole: Uint8Array;
beforeAll(async () => {
  gw = await startTestGateway({ backend });
  const created = await gw.api("/synthesize", jsonPost({ text: "Hello.", voice: "builtin:中文女" }));
  expect(created.status).toBe(201);
  id = created.json.id;
  const res = await gw.api(created.json.url);
  whole = res.bytes;
});
afterAll(() => gw.close());

describe("GET /audio/:id for audio elements", () => {
  it("sends the whole clip with type, length, ETag, Accept-Ranges and cache headers", async () => {
    const res = await gw.api(`/audio/${id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/wav");
    expect(res.headers.get("content-length")).toBe(String(whole.length));
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("etag")).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(res.headers.get("cache-control")).toMatch(/^public, max-age=\d+, immutable$/);
    expect(Buffer.from(whole.subarray(0, 4)).toString()).toBe("RIFF");
  });

  it("HEAD gives the same headers and no body", async () => {
    const res = await gw.api(`/audio/${id}`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(whole.length));
    expect(res.bytes).toHaveLength(0);
  });

  it.each([
    ["bytes=0-99", 0, 99],
    ["bytes=100-", 100, -1],
    ["bytes=-50", -50, -1],
  ])("answers %s with 206 and exactly those bytes", async (range, start, end) => {
    const res = await gw.api(`/audio/${id}`, { headers: { range } });
    expect(res.status).toBe(206);
    const s = start < 0 ? whole.length + start : start;
    const e = end < 0 ? whole.length - 1 : end;
    expect(res.headers.get("content-range")).toBe(`bytes ${s}-${e}/${whole.length}`);
    expect(res.headers.get("content-length")).toBe(String(e - s + 1));
    expect(Buffer.from(res.bytes).equals(Buffer.from(whole.subarray(s, e + 1)))).toBe(true);
  });

  it("answers a range past the end with 416 and Content-Range */size", async () => {
    const res = await gw.api(`/audio/${id}`, { headers: { range: `bytes=${whole.length + 10}-` } });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe(`bytes */${whole.length}`);
  });

  it("ignores a malformed range and sends the whole clip", async () => {
    const res = await gw.api(`/audio/${id}`, { headers: { range: "bytes=abc" } });
    expect(res.status).toBe(200);
    expect(res.bytes).toHaveLength(whole.length);
  });

  it("answers If-None-Match with the ETag by 304", async () => {
    const etag = (await gw.api(`/audio/${id}`, { method: "HEAD" })).headers.get("etag")!;
    const res = await gw.api(`/audio/${id}`, { headers: { "if-none-match": etag } });
    expect(res.status).toBe(304);
    expect(res.bytes).toHaveLength(0);
  });

  it("sends the whole clip when If-Range does not match", async () => {
    const res = await gw.api(`/audio/${id}`, { headers: { range: "bytes=0-9", "if-range": '"stale"' } });
    expect(res.status).toBe(200);
    expect(res.bytes).toHaveLength(whole.length);
  });

  it("404s an unknown or malformed id", async () => {
    expect((await gw.api("/audio/a_AAAAAAAAAAAAAAAAAAAAAA")).status).toBe(404);
    const bad = await gw.api("/audio/..%2F..%2Fvoices%2Fvoices.json");
    expect(bad.status).toBe(404);
    expect(bad.json.type).toBe("urn:cosyvoice3-gateway:problem:audio-not-found");
  });
});
