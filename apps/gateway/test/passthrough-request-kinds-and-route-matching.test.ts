/**
 * The passthrough's pure decisions: which Gradio requests start work and what ties each to a
 * box (gradio 5's `/gradio_api/` paths and gradio 4's root ones), what a join's body names, and
 * how a URL finds its route (longest path first, Ocelot's case-insensitive match, the slash
 * redirect, dot segments refused, the balancers' choice).
 */
import { describe, expect, it } from "vitest";
import { parseRoutesFile } from "../src/platform/routes-file/load.ts";
import { pickBackend } from "../src/doors/passthrough/balancer.ts";
import { classifyGradio, readGradioBody } from "../src/doors/passthrough/gradio-paths.ts";
import { hasDotSegments, RouteTable } from "../src/doors/passthrough/table.ts";
import type { PassthroughBackend } from "../src/doors/passthrough/backends.ts";

const q = (s = "") => new URLSearchParams(s);

describe("Gradio request kinds", () => {
  it.each([
    ["POST", "gradio_api/queue/join", "", { kind: "join", work: true }],
    ["POST", "queue/join", "", { kind: "join", work: true }],
    ["POST", "gradio_api/upload", "upload_id=u1", { kind: "upload", work: true, uploadId: "u1" }],
    ["POST", "gradio_api/call/generate_audio", "", { kind: "call", work: true }],
    ["POST", "gradio_api/run/predict", "", { kind: "run", work: true }],
    ["GET", "gradio_api/queue/data", "session_hash=s1", { kind: "queue-data", work: false, sessionHash: "s1" }],
    ["GET", "gradio_api/heartbeat/s1", "", { kind: "heartbeat", work: false, sessionHash: "s1" }],
    ["GET", "gradio_api/upload_progress", "upload_id=u1", { kind: "upload-progress", work: false, uploadId: "u1" }],
    ["GET", "gradio_api/file=/tmp/gradio/ab/x%20y.wav", "", { kind: "file", work: false, filePath: "/tmp/gradio/ab/x y.wav" }],
    ["GET", "gradio_api/stream/s1/140/21/playlist.m3u8", "", { kind: "stream", work: false, sessionHash: "s1" }],
    ["GET", "gradio_api/call/generate_audio/e1", "", { kind: "call-stream", work: false, eventId: "e1" }],
    ["POST", "gradio_api/cancel", "", { kind: "cancel", work: false }],
    ["GET", "", "", { kind: "other", work: false }],
    ["GET", "config", "", { kind: "other", work: false }],
    ["GET", "assets/index-abc.js", "", { kind: "other", work: false }],
    ["GET", "gradio_api/info", "", { kind: "other", work: false }],
  ] as const)("%s %s?%s", (method, path, query, want) => {
    expect(classifyGradio(method, path, q(query))).toMatchObject(want);
  });

  it("an id that is not a plain token ties the request to nothing", () => {
    expect(classifyGradio("GET", "gradio_api/queue/data", q("session_hash=../../x")).sessionHash).toBeUndefined();
  });

  it("a join's body names its session and the server paths of its files", () => {
    const body = {
      session_hash: "s9",
      fn_index: 1,
      data: ["text", { path: "/tmp/gradio/aa/p.wav", url: "http://x/file=/tmp/gradio/aa/p.wav", orig_name: "p.wav", meta: { _type: "gradio.FileData" } }, null, [{ path: "/tmp/gradio/bb/q.wav", meta: { _type: "gradio.FileData" } }]],
    };
    expect(readGradioBody(body)).toEqual({ sessionHash: "s9", files: ["/tmp/gradio/aa/p.wav", "/tmp/gradio/bb/q.wav"] });
    expect(readGradioBody("not an object")).toEqual({ files: [] });
  });
});

describe("matching a URL to its route", () => {
  const table = new RouteTable(
    parseRoutesFile(
      JSON.stringify({
        Routes: [
          { UpstreamPathTemplate: "/cosyvoice/{everything}", DownstreamPathTemplate: "/{everything}", DownstreamHostAndPorts: [{ Host: "a", Port: 1 }] },
          { UpstreamPathTemplate: "/cosyvoice/api/{rest}", DownstreamPathTemplate: "/v2/{rest}", DownstreamHostAndPorts: [{ Host: "b", Port: 1 }] },
          { UpstreamPathTemplate: "/health", DownstreamPathTemplate: "/healthz", DownstreamHostAndPorts: [{ Host: "c", Port: 1 }] },
        ],
      }),
    ).routes,
  );

  it("the longest path wins, the rest of the path and the query follow", () => {
    expect(table.match("/cosyvoice/gradio_api/info?x=1")).toMatchObject({ redirect: false, rest: "gradio_api/info?x=1", upstream: "/gradio_api/info?x=1" });
    expect(table.match("/cosyvoice/api/tts?x=1")).toMatchObject({ upstream: "/v2/tts?x=1" });
  });

  it("Ocelot's routes match case-insensitively unless RouteIsCaseSensitive", () => {
    expect(table.match("/CosyVoice/config")).toMatchObject({ upstream: "/config" });
  });

  it("the route's path without its slash is redirected to it, query kept", () => {
    expect(table.match("/cosyvoice?a=b")).toEqual(expect.objectContaining({ redirect: true, location: "/cosyvoice/?a=b" }));
  });

  it("an exact route matches only its path", () => {
    expect(table.match("/health")).toMatchObject({ upstream: "/healthz" });
    expect(table.match("/health/x")).toBeUndefined();
    expect(table.match("/other")).toBeUndefined();
  });

  it("dot segments are found, raw or percent-encoded", () => {
    expect(["../x", "a/../b", "%2e%2E/x", "a/.%2e", "./x", "a\\..\\b"].map(hasDotSegments)).toEqual([true, true, true, true, true, true]);
    expect(["a/b.c", "file=/tmp/x..y.wav", "..a/b", "a?x=../y"].map(hasDotSegments)).toEqual([false, false, false, false]);
  });
});

describe("balancers", () => {
  const box = (name: string, o: Partial<{ usable: boolean; retired: boolean; open: number; outstanding: number }> = {}) =>
    ({ name, usable: o.usable ?? true, retired: o.retired ?? false, open: o.open ?? 0, outstanding: o.outstanding ?? 0 }) as unknown as PassthroughBackend;

  it("round-robin takes turns, and never a down box while another is usable", () => {
    const boxes = [box("a"), box("b", { usable: false }), box("c")];
    const turn = { next: 0 };
    expect([1, 2, 3, 4].map(() => pickBackend("round-robin", boxes, turn)?.name)).toEqual(["a", "c", "a", "c"]);
  });

  it("least-outstanding and least-connection pick the least busy; first picks the first usable", () => {
    const boxes = [box("a", { outstanding: 1, open: 0 }), box("b", { outstanding: 0.5, open: 9 })];
    expect(pickBackend("least-outstanding", boxes, { next: 0 })?.name).toBe("b");
    expect(pickBackend("least-connection", boxes, { next: 0 })?.name).toBe("a");
    expect(pickBackend("first", [box("x", { usable: false }), ...boxes], { next: 5 })?.name).toBe("a");
  });

  it("when every box is down one is still tried, so the client gets the real answer", () => {
    expect(pickBackend("round-robin", [box("a", { usable: false })], { next: 0 })?.name).toBe("a");
  });
});
