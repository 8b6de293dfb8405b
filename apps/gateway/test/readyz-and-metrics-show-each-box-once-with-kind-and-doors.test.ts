// One registry of boxes, seen from outside. A routes file whose synthesis route is a real Gradio
// stand-in (the REST API's box and a passthrough route on the same box), an `/asr/` route to the
// real ASR stand-in that ASR_URL also names (by another loopback name: still one box), and a
// passthrough-only plain HTTP service whose URL carries credentials. `/readyz` and `/metrics`
// show each box once, with its kind and the doors that use it; the ASR server going down shows
// at `/readyz` and at its route with its own title; the credentials reach no log line, no
// `/readyz` and no `/metrics`, also when the box goes down.
import { parsePrometheus, startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redactText, redactUrl } from "../src/backends/registry/index.ts";
import { createLogger } from "../src/platform/logging.ts";
import { startRoutedGateway, startEchoBackend, tempRoot, type EchoBackend, type RoutedGateway } from "./helpers/passthrough.ts";
import { until } from "./helpers/pool-stack.ts";

const SECRET = "s3cret-pass";

interface BoxLine {
  name: string;
  kind?: string;
  doors: string[];
  state: string;
  error?: string;
  title?: string;
}

describe("each box once at /readyz and /metrics, with its kind and doors", () => {
  const tmp = tempRoot("registry-boxes-");
  let ui: StandinHandle;
  let asr: StandinHandle;
  let echo: EchoBackend;
  let g: RoutedGateway;
  const boxes = async (): Promise<BoxLine[]> => ((await (await fetch(`${g.url}/readyz`)).json()) as { backends: BoxLine[] }).backends;
  const byKind = async (kind: string) => (await boxes()).filter((b) => b.kind === kind);

  beforeAll(async () => {
    [ui, asr, echo] = await Promise.all([startStandin({ variant: "official", model: "cosyvoice3" }), startStandin({ serve: "asr" }), startEchoBackend()]);
    const routes = [
      "routes:",
      "  - path: /cosyvoice/",
      "    synthesis: true",
      `    backends: ["${ui.url}"]`,
      "  - path: /asr/",
      `    backends: ["http://localhost:${asr.port}"]`,
      "  - path: /echo/",
      "    kind: http",
      `    backends: ["http://operator:${SECRET}@127.0.0.1:${echo.port}"]`,
      "",
    ].join("\n");
    g = await startRoutedGateway(tmp.root, routes, { model: "cosyvoice3", cosyvoiceUrls: ["http://127.0.0.1:1"], asr: { url: `${asr.url}/v1`, model: "whisper-1", timeoutMs: 30_000 } });
    // The periodic check (every second here) has seen every box.
    await until(async () => (await boxes()).every((b) => b.state !== "unknown"), "every box checked");
  }, 120_000);
  afterAll(async () => {
    await g?.close();
    await Promise.all([ui?.stop(), asr?.stop(), echo?.close()]);
    tmp.cleanup();
  });

  it("/readyz: three boxes, each once: the pool's (also a route), the ASR server (also a route), the passthrough-only service", async () => {
    const res = await fetch(`${g.url}/readyz`);
    expect(res.status).toBe(200);
    const list = ((await res.json()) as { backends: BoxLine[] }).backends;
    expect(list).toHaveLength(3);
    expect(new Set(list.map((b) => b.name)).size).toBe(3);
    const [gradio, speech, plain] = [list.find((b) => b.kind === "gradio"), list.find((b) => b.kind === "asr"), list.find((b) => b.kind === "http")];
    expect(gradio).toMatchObject({ name: "backend-1", state: "up" });
    expect(new Set(gradio?.doors)).toEqual(new Set(["rest", "v1", "jobs", "passthrough"]));
    expect(speech).toMatchObject({ state: "up" });
    expect(new Set(speech?.doors)).toEqual(new Set(["asr", "passthrough"]));
    expect(plain).toMatchObject({ state: "up", doors: ["passthrough"] });
  });

  it("/metrics: one box_info series per box with its kind and doors, and each box's gauges once", async () => {
    const text = await (await fetch(`${g.url}/metrics`)).text();
    const samples = parsePrometheus(text);
    const info = samples.filter((s) => s.name === "cosyvoice_gateway_box_info");
    expect(info.map((s) => [s.labels["kind"], s.labels["doors"]]).sort()).toEqual([
      ["asr", "asr,passthrough"],
      ["gradio", "jobs,passthrough,rest,v1"],
      ["http", "passthrough"],
    ]);
    expect(info.every((s) => s.value === 1)).toBe(true);
    const up = samples.filter((s) => s.name === "cosyvoice_gateway_backend_up");
    expect(up.map((s) => s.labels["backend"]).sort()).toEqual(info.map((s) => s.labels["box"]).sort());
    expect(text).not.toContain(SECRET);
  });

  it("the credentials in a box URL reach no log line, /readyz or /metrics, also when the box goes down", async () => {
    await echo.close();
    await until(async () => (await byKind("http"))[0]?.state === "down", "the plain service to be checked down");
    const down = g.logged("backend down").filter((l) => typeof l["url"] === "string" && (l["url"] as string).includes(`127.0.0.1:${echo.port}`));
    expect(down).toHaveLength(1);
    expect(down[0]?.["url"]).toBe(`http://[redacted]@127.0.0.1:${echo.port}`);
    expect(g.logLines.filter((l) => l.includes(SECRET))).toEqual([]);
    expect(JSON.stringify(await boxes())).not.toContain(SECRET);
    expect(await (await fetch(`${g.url}/metrics`)).text()).not.toContain(SECRET);
  });

  it("the ASR server down: /readyz names it with its own title (still ready for synthesis), and so does its route's 502", async () => {
    await asr.stop();
    await until(async () => (await byKind("asr"))[0]?.state === "down", "the ASR box to be checked down");
    const ready = await fetch(`${g.url}/readyz`);
    expect(ready.status).toBe(200);
    const [speech] = await byKind("asr");
    expect(speech).toMatchObject({ state: "down", error: "asr-unavailable", title: "The speech-recognition service is unreachable" });
    const routed = await fetch(`${g.url}/asr/v1/models`);
    expect(routed.status).toBe(502);
    expect(await routed.json()).toMatchObject({ title: "The speech-recognition service is unreachable", type: expect.stringContaining("backend-unreachable") });
  });
});

describe("redactUrl", () => {
  it("takes user and password out of a URL and out of any text holding one", () => {
    expect(redactUrl("http://bob:pw@gpu-1:7860/x")).toBe("http://[redacted]@gpu-1:7860/x");
    expect(redactUrl("fastapi+https://bob@gpu-1:50000")).toBe("fastapi+https://[redacted]@gpu-1:50000");
    expect(redactUrl("http://gpu-1:7860")).toBe("http://gpu-1:7860");
    expect(redactText("connect ECONNREFUSED grpc://a:b@h:1 then http://c:d@e:2/")).toBe("connect ECONNREFUSED grpc://[redacted]@h:1 then http://[redacted]@e:2/");
  });

  it("the gateway's logger takes them out of any logged error (an SDK error quotes the URL it could not reach)", () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", format: "json", destination: { write: (l: string) => void lines.push(l) } });
    logger.error({ err: new Error(`socket hang up http://operator:${SECRET}@gpu-1:7860/gradio_api/queue/join`) }, "request failed");
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(SECRET);
    expect(JSON.parse(lines[0] as string).err.message).toBe("socket hang up http://[redacted]@gpu-1:7860/gradio_api/queue/join");
  });
});
