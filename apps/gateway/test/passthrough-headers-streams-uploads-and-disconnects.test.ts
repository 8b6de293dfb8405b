/**
 * The passthrough's HTTP hygiene, against a plain echo backend (what reached it) and a real
 * stand-in (Gradio's event streams): hop-by-hop headers dropped both ways; the client's
 * X-Forwarded-* replaced by the gateway's own (Gradio's public URL is built from them); event
 * streams pass at once, uncompressed and marked so nothing after us buffers them; an upload
 * streams through (the backend has bytes before the client finished) and one over the cap is
 * refused; a client that goes away closes its upstream request (and Gradio cancels the job);
 * redirects and failures never show the backend's address.
 */
import { request } from "node:http";
import { readRecord, waitForRecord, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROMPT_TEXT, startBoxes, startEchoBackend, startRoutedGateway, tempRoot, type EchoBackend, type RoutedGateway } from "./helpers/passthrough.ts";

async function until(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("passthrough hygiene", () => {
  const tmp = tempRoot("passthrough-hygiene-");
  let echo: EchoBackend;
  let box: StandinHandle;
  let g: RoutedGateway;

  beforeAll(async () => {
    echo = await startEchoBackend();
    [box] = (await startBoxes(tmp.root, 1, { firstChunkDelayMs: 200, chunkDelayMs: 1_500 })) as [StandinHandle];
    g = await startRoutedGateway(
      tmp.root,
      `routes:
  - path: /echo/
    kind: http
    backends: ["${echo.url}"]
    maxUploadBytes: 65536
  - path: /cosyvoice/
    kind: gradio
    backends: ["${box.url}"]
  - path: /down/
    kind: http
    backends: ["http://127.0.0.1:1"]
`,
    );
  });
  afterAll(async () => {
    await g?.close();
    await echo?.close();
    await box?.stop();
    tmp.cleanup();
  });

  it("drops hop-by-hop headers both ways and states X-Forwarded-* itself", async () => {
    const res = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = request(`${g.url}/echo/headers?x=1`, {
        headers: {
          connection: "keep-alive, x-client-hop",
          "x-client-hop": "secret",
          te: "trailers",
          "proxy-authorization": "Basic Zm9vOmJhcg==",
          "x-forwarded-host": "evil.example",
          "x-forwarded-for": "6.6.6.6",
          "x-end-to-end": "kept",
        },
      });
      req.on("response", (r) => {
        let body = "";
        r.on("data", (c: Buffer) => (body += c.toString()));
        r.on("end", () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body }));
      });
      req.on("error", reject);
      req.end();
    });
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.body) as Record<string, string>;
    for (const h of ["x-client-hop", "te", "proxy-authorization"]) expect(seen[h]).toBeUndefined();
    expect(seen["x-end-to-end"]).toBe("kept");
    const host = new URL(g.url).host;
    expect(seen["x-forwarded-host"]).toBe(host);
    expect(seen["x-forwarded-proto"]).toBe("http");
    expect(seen["x-forwarded-prefix"]).toBe("/echo");
    // Not behind a trusted proxy: the client's claimed address is dropped, the real one stated.
    expect(seen["x-forwarded-for"]).toBe("127.0.0.1");
    expect(echo.requests.at(-1)?.url).toBe("/headers?x=1");
    expect(res.headers["x-upstream-hop"]).toBeUndefined();
  });

  it("gives Gradio the public host with the route's prefix, so its root points through the gateway", async () => {
    const config = (await (await fetch(`${g.url}/cosyvoice/config`, { headers: { "x-forwarded-host": "evil.example" } })).json()) as { root: string };
    expect(config.root).toBe(`${g.url}/cosyvoice`);
  });

  it("passes an event stream at once, uncompressed, marked no-transform", async () => {
    const started = Date.now();
    const res = await fetch(`${g.url}/cosyvoice/gradio_api/heartbeat/hygiene-session`, { headers: { "accept-encoding": "gzip, br" } });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("content-encoding")).toBeNull();
    expect(res.headers.get("cache-control")).toMatch(/no-transform/);
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    // The first `data: ALIVE` arrives while the stream stays open (it would never end).
    expect(new TextDecoder().decode(first.value)).toContain("ALIVE");
    expect(Date.now() - started).toBeLessThan(5_000);
    await reader.cancel();
  });

  it("streams an upload through: the backend has bytes before the client has sent them all", async () => {
    const before = echo.requests.length;
    const done = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${g.url}/echo/upload`, { method: "POST", headers: { "content-type": "application/octet-stream" } });
      req.on("response", (r) => {
        let body = "";
        r.on("data", (c: Buffer) => (body += c.toString()));
        r.on("end", () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.write(Buffer.alloc(16_384, 1));
      void until(() => (echo.requests[before]?.received ?? 0) >= 16_384).then(() => {
        req.end(Buffer.alloc(16_384, 2));
      }, reject);
    });
    const res = await done;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ received: 32_768 });
  });

  it("refuses a body over the route's cap: at once when declared, mid-stream when not", async () => {
    const declared = await fetch(`${g.url}/echo/upload`, { method: "POST", body: new Uint8Array(70_000) });
    expect(declared.status).toBe(413);
    expect((await declared.json()) as { type: string }).toMatchObject({ type: expect.stringContaining("payload-too-large") });

    const before = echo.requests.length;
    const chunked = await new Promise<number | string>((resolve) => {
      const req = request(`${g.url}/echo/upload`, { method: "POST", headers: { "transfer-encoding": "chunked" } });
      req.on("response", (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
      const chunk = Buffer.alloc(16_384, 3);
      let n = 0;
      const pump = () => {
        if (n++ >= 8) return void req.end();
        req.write(chunk, () => setTimeout(pump, 5));
      };
      pump();
    });
    // Either the gateway's 413 arrived, or the connection was cut; the backend never got it all.
    expect([413, "ECONNRESET", "EPIPE"]).toContain(chunked);
    await until(() => echo.requests[before]?.aborted === true || echo.requests[before] === undefined);
    expect(echo.requests[before]?.ended ?? false).toBe(false);
  });

  it("closes the upstream request when the client goes away, so Gradio cancels the job", async () => {
    const { joinQueue, synthWav, uploadFile } = await import("@cosyvoice3/testkit");
    const base = `${g.url}/cosyvoice`;
    const session = "leaves-early";
    const file = await uploadFile(base, synthWav({ sampleRate: 24_000, seconds: 3 }), "p.wav", "audio/wav");
    const join = await joinQueue(base, { fn_index: 1, session_hash: session, data: ["One. Two. Three. Four. Five.", "3s极速复刻", "", PROMPT_TEXT, file, null, "", 0, false, 1] });
    expect(join.ok).toBe(true);
    const ac = new AbortController();
    const stream = await fetch(`${base}/gradio_api/queue/data?session_hash=${session}`, { signal: ac.signal });
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    const rec = await waitForRecord(box.record, (r) => r.some((e) => e.event === "call" && e["session_hash"] === session));
    const job = rec.find((e) => e.event === "call" && e["session_hash"] === session)?.["job"];
    ac.abort();
    const after = await waitForRecord(box.record, (r) => r.some((e) => e["job"] === job && (e.event === "cancelled" || e.event === "done")), 20_000);
    expect(after.find((e) => e["job"] === job && (e.event === "cancelled" || e.event === "done"))?.event).toBe("cancelled");
    // And its job slot is free again.
    await until(() => g.gw.passthrough?.jobs.size === 0);
    expect(readRecord(box.record).filter((e) => e["job"] === job && e.event === "chunk").length).toBeLessThan(5);
  });

  it("rewrites a backend's redirect into the gateway's URL space", async () => {
    const res = await fetch(`${g.url}/echo/redirect`, { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/echo/landed");
  });

  it("answers a refused backend with 502 problem+json that names no address", async () => {
    const res = await fetch(`${g.url}/down/anything`);
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toMatch(/application\/problem\+json/);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ type: expect.stringContaining("backend-unreachable"), status: 502 });
    expect(text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|at [A-Za-z]+ \(/);
  });

  it("refuses a path that climbs out of the route (raw or percent-encoded dots)", async () => {
    const { hostname, port } = new URL(g.url);
    for (const path of ["/echo/%2e%2e/admin", "/echo/a/../../admin", "/echo/.%2E/admin"]) {
      const status = await new Promise<number>((resolve) => {
        // A raw path: a URL object would resolve the dots before sending.
        request({ hostname, port, path }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        }).end();
      });
      expect({ path, status }).toEqual({ path, status: 400 });
    }
  });
});
