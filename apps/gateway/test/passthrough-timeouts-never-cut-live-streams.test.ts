/**
 * The article's 30 s timeout, meaning what it should: it bounds the wait for a backend's
 * response headers and plain bodies, never an event stream that is alive. A synthesis longer
 * than the route's timeout completes (here a 2 s route and a job of about 6 s); a backend that
 * accepts the connection and never answers is a 504 problem within the timeout; one that
 * refuses connections is a 502.
 */
import { createServer, type Server, type Socket } from "node:net";
import { readRecord, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCloneSession, startBoxes, startRoutedGateway, tempRoot, type RoutedGateway } from "./helpers/passthrough.ts";

describe("a route's timeout", () => {
  const tmp = tempRoot("passthrough-timeouts-");
  let box: StandinHandle;
  let silent: Server;
  const sockets: Socket[] = [];
  const closed = new Set<Socket>();
  const heads = new Map<Socket, string>();
  let g: RoutedGateway;

  beforeAll(async () => {
    // Four sentences: 1 s before the first chunk, 1.5 s before each further one.
    [box] = (await startBoxes(tmp.root, 1, { firstChunkDelayMs: 1_000, chunkDelayMs: 1_500 })) as [StandinHandle];
    silent = createServer((s) => {
      sockets.push(s);
      s.on("close", () => closed.add(s));
      s.on("data", (c: Buffer) => heads.set(s, (heads.get(s) ?? "") + c.toString("latin1")));
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const silentPort = (silent.address() as { port: number }).port;
    g = await startRoutedGateway(
      tmp.root,
      `routes:
  - path: /cosyvoice/
    kind: gradio
    timeoutMs: 2000
    backends: ["${box.url}"]
  - path: /silent/
    kind: http
    timeoutMs: 1500
    backends: ["http://127.0.0.1:${silentPort}"]
  - path: /refused/
    kind: http
    backends: ["http://127.0.0.1:1"]
`,
    );
  });
  afterAll(async () => {
    await g?.close();
    for (const s of sockets) s.destroy();
    silent?.close();
    await box?.stop();
    tmp.cleanup();
  });

  it("never cuts a live event stream: a job three times longer than the timeout completes", async () => {
    const started = Date.now();
    const out = await runCloneSession(`${g.url}/cosyvoice`, "long-job", "First sentence. Second sentence. Third sentence. Fourth sentence.");
    const took = Date.now() - started;
    expect(out.success).toBe(true);
    expect(took).toBeGreaterThan(4_000);
    const rec = readRecord(box.record);
    const job = rec.find((e) => e.event === "call" && e["session_hash"] === "long-job")?.["job"];
    expect(rec.filter((e) => e["job"] === job && e.event === "chunk")).toHaveLength(4);
    expect(rec.some((e) => e["job"] === job && e.event === "done")).toBe(true);
  });

  it("a backend that accepts and never answers is a 504 problem within the timeout", async () => {
    const started = Date.now();
    const res = await fetch(`${g.url}/silent/anything`);
    const took = Date.now() - started;
    expect(res.status).toBe(504);
    expect(res.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(await res.json()).toMatchObject({ type: expect.stringContaining("deadline-exceeded"), status: 504 });
    expect(took).toBeGreaterThanOrEqual(1_400);
    expect(took).toBeLessThan(4_000);
    // The silent backend's connection is given up, not left open.
    await new Promise((r) => setTimeout(r, 200));
    // (The health check's own probe of /config may be open at the same time.)
    const proxied = sockets.filter((s) => heads.get(s)?.startsWith("GET /anything"));
    expect(proxied).toHaveLength(1);
    expect(proxied.filter((s) => !closed.has(s))).toHaveLength(0);
  });

  it("a backend that refuses connections is a 502 problem at once", async () => {
    const started = Date.now();
    const res = await fetch(`${g.url}/refused/anything`);
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ type: expect.stringContaining("backend-unreachable") });
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});
