/**
 * Hot reload of ROUTES_FILE. The file is picked up when written in place and when replaced by a
 * rename (a new inode, as editors and config management do); a broken file is logged with the
 * path of the bad field and the last good routes keep serving (Ocelot installs it anyway); a
 * request in flight finishes on the routes it started with; rate-limit counters survive a
 * reload; and backends are added and removed under load with no job lost.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readRecord, type StandinHandle } from "@cosyvoice3/testkit";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { watchRoutesFile, type RoutesFileWatcher } from "../src/platform/routes-file/watch.ts";
import type { RoutesConfig } from "../src/platform/routes-file/load.ts";
import { runCloneSession, startBoxes, startRoutedGateway, tempRoot, type RoutedGateway } from "./helpers/passthrough.ts";

const routes = (...urls: string[]) => `routes:\n  - path: /cosyvoice/\n    kind: gradio\n    backends: [${urls.map((u) => `"${u}"`).join(", ")}]\n`;

/** Resolves when `pred` holds, polling. */
async function until(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("the routes file watcher", () => {
  const tmp = tempRoot("routes-watch-");
  const file = join(tmp.root, "routes.yaml");
  const lines: string[] = [];
  let watcher: RoutesFileWatcher;
  const changes: RoutesConfig[] = [];

  beforeAll(() => {
    writeFileSync(file, routes("http://a:1"));
    // Polling off: the directory watch alone must see every kind of change.
    watcher = watchRoutesFile(file, { logger: pino({ level: "debug" }, { write: (l: string) => void lines.push(l) }), onChange: (next) => changes.push(next), pollMs: 0, debounceMs: 20 });
  });
  afterAll(() => {
    watcher.close();
    tmp.cleanup();
  });

  it("sees a write in place", async () => {
    writeFileSync(file, routes("http://b:1"));
    await until(() => changes.length === 1);
    expect(watcher.current().routes[0]?.backends[0]?.url).toBe("http://b:1");
  });

  it("sees a new file renamed over the old one (a new inode)", async () => {
    const tmpFile = join(tmp.root, ".routes.yaml.swp");
    writeFileSync(tmpFile, routes("http://c:1"));
    (await import("node:fs")).renameSync(tmpFile, file);
    await until(() => changes.length === 2);
    expect(watcher.current().routes[0]?.backends[0]?.url).toBe("http://c:1");
  });

  it("keeps the last good routes when the new file is broken, and logs the bad field's path", async () => {
    writeFileSync(file, "routes:\n  - path: /cosyvoice/\n    backends: [http://d:1]\n    timeoutMs: -5\n");
    await until(() => lines.some((l) => l.includes("routes file rejected")));
    const entry = JSON.parse(lines.find((l) => l.includes("routes file rejected")) as string) as { issues: { path: string }[]; msg: string };
    expect(entry.issues.map((i) => i.path)).toEqual(["routes[0].timeoutMs"]);
    expect(entry.msg).toContain("routes[0].timeoutMs");
    expect(changes).toHaveLength(2);
    expect(watcher.current().routes[0]?.backends[0]?.url).toBe("http://c:1");
    // Fixed: it takes over.
    writeFileSync(file, routes("http://e:1"));
    await until(() => changes.length === 3);
    expect(watcher.current().routes[0]?.backends[0]?.url).toBe("http://e:1");
  });

  it("logs that the file is accepted again when the last good content is restored after a rejected edit", async () => {
    const good = routes("http://e:1");
    expect(watcher.current().routes[0]?.backends[0]?.url).toBe("http://e:1");
    const before = lines.length;
    writeFileSync(file, "routes:\n  - path: /cosyvoice/\n    backends: [http://f:1]\n    balancer: random\n");
    await until(() => lines.slice(before).some((l) => l.includes("routes file rejected")));
    // The operator puts the last good content back: nothing changes, but the log must say the
    // file is fine again instead of leaving "rejected" as the last word.
    writeFileSync(file, good);
    await until(() => lines.slice(before).some((l) => l.includes("accepted again")));
    const entry = JSON.parse(lines.slice(before).find((l) => l.includes("accepted again")) as string) as { level: number; routes: string[]; msg: string };
    expect(entry.level).toBe(30);
    expect(entry.routes).toEqual(["/cosyvoice/"]);
    expect(changes).toHaveLength(3); // no reload: the routes in force are the same
    // Rewriting the same good content once more says nothing new (no log line per event).
    const after = lines.length;
    writeFileSync(file, good);
    await watcher.reload();
    expect(lines.slice(after).filter((l) => l.includes("accepted again") || l.includes("rejected"))).toEqual([]);
  });

  it("refuses to start on a broken file", () => {
    const bad = join(tmp.root, "bad.json");
    writeFileSync(bad, '{"Routes": [{"UpstreamPathTemplate": "/x/{all}"}]}');
    expect(() => watchRoutesFile(bad, { logger: pino({ level: "silent" }), onChange: () => undefined })).toThrow(/Routes\[0\]\.DownstreamPathTemplate: is required/);
  });
});

describe("reloading a running gateway", () => {
  const tmp = tempRoot("routes-reload-");
  let boxes: StandinHandle[];
  let g: RoutedGateway;

  beforeAll(async () => {
    // Jobs take about a second (two sentences at 400 ms each plus the first chunk's delay), so
    // reloads happen while jobs run.
    boxes = await startBoxes(tmp.root, 2, { firstChunkDelayMs: 300, chunkDelayMs: 400 });
    // The UI's own queue holds 2 running + 4 waiting: the gateway's cap per box must not exceed it.
    g = await startRoutedGateway(tmp.root, routes(boxes[0]?.url ?? ""), { concurrency: 2, queueSize: 4 });
  });
  afterEach(async () => {
    g.writeInPlace(routes(boxes[0]?.url ?? ""));
    const want = routes(boxes[0]?.url ?? "");
    await until(() => {
      const r = g.gw.passthrough?.routes[0];
      return r !== undefined && r.backends.length === 1 && r.backends[0]?.url === boxes[0]?.url && r.rateLimit === undefined && want !== "";
    });
  });
  afterAll(async () => {
    await g?.close();
    await Promise.all((boxes ?? []).map((b) => b.stop()));
    tmp.cleanup();
  });

  const sessionsOn = (box: StandinHandle, prefix: string) =>
    new Set(
      readRecord(box.record)
        .filter((e) => e.event === "call" && String(e["session_hash"]).startsWith(prefix))
        .map((e) => e["session_hash"] as string),
    );

  it("adds a backend and removes one under load, with every job completing", async () => {
    const [a, b] = boxes as [StandinHandle, StandinHandle];
    const jobs: Promise<{ session: string; success: boolean; messages: string[] }>[] = [];
    const start = (i: number) => jobs.push(runCloneSession(`${g.url}/cosyvoice`, `load-${i}`, `Load job ${i}. It has two sentences.`));
    for (let i = 0; i < 3; i++) start(i);
    await until(() => sessionsOn(a, "load-").size >= 2);
    // Add box B (in place): new sessions may go there.
    g.writeInPlace(routes(a.url, b.url));
    await until(() => g.logged("routes reloaded").length >= 1);
    for (let i = 3; i < 6; i++) start(i);
    await until(() => sessionsOn(b, "load-").size >= 1, 20_000);
    // Remove box A by renaming a new file over the old one, while A still runs jobs.
    g.replaceByRename(routes(b.url));
    await until(() => g.logged("routes reloaded").length >= 2);
    for (let i = 6; i < 8; i++) start(i);
    const results = await Promise.all(jobs);
    expect(results.filter((r) => !r.success)).toEqual([]);
    // A's sessions finished there; no session that began after its removal reached it.
    for (let i = 6; i < 8; i++) {
      expect(sessionsOn(b, "load-").has(`load-${i}`)).toBe(true);
      expect(sessionsOn(a, "load-").has(`load-${i}`)).toBe(false);
    }
    expect(g.logged("passthrough backend retired")).toHaveLength(1);
  });

  it("a request in flight finishes on the routes it started with", async () => {
    const job = runCloneSession(`${g.url}/cosyvoice`, "inflight-1", "I started before the route went away. Let me finish.");
    // Its first chunk is out, so its event stream is open (and reading on the old routes).
    await until(() => {
      const rec = readRecord((boxes[0] as StandinHandle).record);
      const call = rec.find((e) => e.event === "call" && e["session_hash"] === "inflight-1");
      return call !== undefined && rec.some((e) => e.event === "chunk" && e["job"] === call["job"]);
    });
    // The route is gone for new requests ...
    g.writeInPlace("routes: []\n");
    await until(() => g.gw.passthrough?.routes.length === 0);
    expect((await fetch(`${g.url}/cosyvoice/config`)).status).toBe(404);
    // ... and the job that was running completes on it.
    expect((await job).success).toBe(true);
  });

  it("rate-limit counters survive a reload that keeps the budget", async () => {
    const limited = (timeout: number) => `routes:\n  - path: /cosyvoice/\n    kind: gradio\n    timeoutMs: ${timeout}\n    backends: ["${boxes[0]?.url}"]\n    rateLimit: { limit: 2, windowMs: 60000 }\n`;
    g.writeInPlace(limited(30_000));
    await until(() => g.gw.passthrough?.routes[0]?.rateLimit !== undefined);
    const join = () => fetch(`${g.url}/cosyvoice/gradio_api/queue/join`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect((await join()).status).not.toBe(429);
    expect((await join()).status).not.toBe(429);
    g.writeInPlace(limited(20_000));
    await until(() => g.gw.passthrough?.routes[0]?.timeoutMs === 20_000);
    const third = await join();
    expect(third.status).toBe(429);
  });
});

describe("the article's ocelot.json, verbatim but for the host", () => {
  const tmp = tempRoot("routes-article-");
  let box: StandinHandle;
  let asr: StandinHandle;
  let g: RoutedGateway;

  beforeAll(async () => {
    [box, asr] = (await startBoxes(tmp.root, 2)) as [StandinHandle, StandinHandle];
    const article = (await import("node:fs")).readFileSync(join(import.meta.dirname, "fixtures/article-ocelot.json"), "utf8");
    const text = article.replace('"Port": 7860', `"Port": ${box.port}`).replace('"Port": 8000', `"Port": ${asr.port}`);
    g = await startRoutedGateway(tmp.root, text, {}, "ocelot.json");
  });
  afterAll(async () => {
    await g?.close();
    await box?.stop();
    await asr?.stop();
    tmp.cleanup();
  });

  it("serves the web UI under /cosyvoice/ with its public root there", async () => {
    const config = (await (await fetch(`${g.url}/cosyvoice/config`)).json()) as { root: string };
    expect(config.root).toBe(`${g.url}/cosyvoice`);
    expect((await fetch(`${g.url}/cosyvoice/`)).headers.get("content-type")).toMatch(/text\/html/);
    expect((await runCloneSession(`${g.url}/cosyvoice`, "article-1", "Hello from the article's set-up.")).success).toBe(true);
  });

  it("passes /asr/ through the same way, and a method the route does not list is refused", async () => {
    expect((await fetch(`${g.url}/asr/config`)).status).toBe(200);
    const del = await fetch(`${g.url}/asr/config`, { method: "DELETE" });
    expect(del.status).toBe(405);
    expect(del.headers.get("allow")).toBe("GET, POST, HEAD");
  });
});
