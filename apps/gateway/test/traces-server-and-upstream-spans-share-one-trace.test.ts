/**
 * With OTEL_EXPORTER_OTLP_ENDPOINT set, one synthesis through the real SDK and the real stand-in
 * reaches an in-process OTLP/HTTP (JSON) receiver as one trace: the gateway's SERVER span and
 * the CLIENT spans of the SDK's requests to the UI (join, event stream, file fetches), with the
 * W3C traceparent sent upstream and the trace id on the request's log lines. An incoming
 * traceparent is continued, not replaced.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectingBackend } from "../src/backends/gradio/driver.ts";
import { startTracing, tracedFetch, traceLogFields, type Tracing } from "../src/platform/tracing/index.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: { stringValue?: string; intValue?: number | string } }[];
}
const SERVER = 2;
const CLIENT = 3;

let receiver: Server;
const spans: OtlpSpan[] = [];
const services = new Set<string>();
let standin: StandinHandle;
let tracing: Tracing;
let gw: TestGateway;
const logLines: string[] = [];
const sentHeaders: Headers[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      expect(req.url).toBe("/v1/traces");
      expect(req.headers["content-type"]).toMatch(/json/);
      const doc = JSON.parse(body) as { resourceSpans: { resource: { attributes: OtlpSpan["attributes"] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of doc.resourceSpans) {
        for (const a of rs.resource.attributes) if (a.key === "service.name") services.add(a.value.stringValue ?? "");
        for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.setHeader("content-type", "application/json");
      res.end("{}");
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const logger = pino({ level: "debug", mixin: traceLogFields }, { write: (l: string) => void logLines.push(l) });
  tracing = startTracing(
    { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_SERVICE_NAME: "gw-under-test" },
    logger,
  );
  expect(tracing.enabled).toBe(true);
  standin = await startStandin({ variant: "official", model: "cosyvoice1" });
  const spy: typeof fetch = (input, init) => {
    sentHeaders.push(new Headers(init?.headers));
    return fetch(input, init);
  };
  const backend = connectingBackend(standin.url, { client: { model: "cosyvoice1", fetch: tracedFetch(spy) } });
  gw = await startTestGateway({ backend, logger });
}, 90_000);

afterAll(async () => {
  await gw?.close();
  await tracing?.shutdown();
  await standin?.stop();
  await new Promise((r) => receiver.close(r));
});

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? Number(v.intValue) : undefined);
};

async function waitForSpans(pick: (all: OtlpSpan[]) => OtlpSpan[]): Promise<OtlpSpan[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    await tracing.flush();
    const got = pick(spans);
    if (got.length > 0) return got;
    if (Date.now() > deadline) throw new Error(`no such span among ${JSON.stringify(spans.map((s) => s.name))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function spansOf(traceId: string, until: (s: OtlpSpan[]) => boolean): Promise<OtlpSpan[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    await tracing.flush();
    const mine = spans.filter((s) => s.traceId === traceId);
    if (until(mine)) return mine;
    if (Date.now() > deadline) throw new Error(`spans of ${traceId} so far: ${JSON.stringify(mine.map((s) => s.name))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("one trace per request", () => {
  it("a synthesis gives a SERVER span and CLIENT spans for the UI's join, event stream and file fetch, all in one trace", async () => {
    const res = await gw.api("/synthesize", jsonPost({ text: "Hello there.", voice: "builtin:中文女" }));
    expect(res.status).toBe(201);
    const server = await waitForSpans((all) => all.filter((s) => s.kind === SERVER && s.name === "POST /synthesize"));
    const root = server.find((s) => s.kind === SERVER && s.name === "POST /synthesize");
    expect(root, "server span").toBeDefined();
    expect(attr(root!, "http.route")).toBe("/synthesize");
    expect(attr(root!, "http.response.status_code")).toBe(201);
    const trace = await spansOf(root!.traceId, (s) => s.filter((x) => x.kind === CLIENT).some((x) => /\/stream\/|\/file=/.test(String(attr(x, "url.full")))));
    const clients = trace.filter((s) => s.kind === CLIENT);
    // The synthesis span sits between the request and the SDK's calls.
    const synthesis = trace.find((s) => s.name === "synthesis");
    expect(synthesis?.parentSpanId).toBe(root!.spanId);
    expect(attr(synthesis!, "synthesis.backend")).toBe("backend-1");
    expect(clients.some((c) => c.parentSpanId === synthesis!.spanId)).toBe(true);
    const urls = clients.map((s) => String(attr(s, "url.full")));
    expect(urls.some((u) => /\/queue\/join$/.test(u)), urls.join("\n")).toBe(true);
    expect(urls.some((u) => /\/queue\/data$/.test(u)), urls.join("\n")).toBe(true);
    expect(urls.some((u) => /\/stream\/|\/file=/.test(u)), urls.join("\n")).toBe(true);
    // Session hashes (query strings) stay out of the spans.
    expect(urls.every((u) => !u.includes("session_hash"))).toBe(true);
    expect(services).toEqual(new Set(["gw-under-test"]));
    // The UI got the trace in W3C form.
    expect(sentHeaders.some((h) => h.get("traceparent")?.split("-")[1] === root!.traceId)).toBe(true);
    // The request's log lines name the trace.
    const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l["trace_id"] === root!.traceId);
    expect(lines.some((l) => l["msg"] === "request completed")).toBe(true);
  }, 60_000);

  it("an incoming traceparent is continued", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await gw.api("/synthesize", jsonPost({ text: "Again.", voice: "builtin:中文女" }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }));
    expect(res.status).toBe(201);
    const mine = await spansOf(traceId, (s) => s.some((x) => x.kind === SERVER) && s.some((x) => x.kind === CLIENT));
    expect(mine.find((s) => s.kind === SERVER)?.parentSpanId).toBe("00f067aa0ba902b7");
  }, 60_000);
});
