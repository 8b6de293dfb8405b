/**
 * `GET /metrics` is Prometheus text whose series move with the traffic: requests counted by
 * route template (never the raw path or an id, so the label set stays bounded), latency
 * histograms, backend job gauges, refusals by reason, process metrics.
 */
import { parsePrometheus, sampleValue, type Sample } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";

const P = "cosyvoice_gateway_";
const backend = new FakeBackend();
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ backend, config: { rateLimit: { windowMs: 60_000, synthesize: 3, upload: 100, read: 1000 } } });
});
afterAll(() => gw.close());

async function scrape(): Promise<Sample[]> {
  const res = await fetch(gw.url + "/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

describe("/metrics", () => {
  it("counts requests by route template and status, with a latency histogram", async () => {
    const before = await scrape();
    const ok = await gw.api("/synthesize", jsonPost({ text: "Hello.", voice: "builtin:中文女" }));
    expect(ok.status).toBe(201);
    await gw.api(ok.json.url);
    await gw.api("/audio/a_doesnotexist000000000000");
    await gw.api("/voices/v_nope00000000000000000000");
    await gw.api("/no/such/path/12345");
    const after = await scrape();
    const count = (s: Sample[], route: string, status: string) => sampleValue(s, `${P}http_requests_total`, { method: "POST", route, status });
    expect(count(after, "/synthesize", "201") - count(before, "/synthesize", "201")).toBe(1);
    expect(sampleValue(after, `${P}http_requests_total`, { method: "GET", route: "/audio/:id", status: "200" })).toBe(1);
    expect(sampleValue(after, `${P}http_requests_total`, { method: "GET", route: "/audio/:id", status: "404" })).toBe(1);
    expect(sampleValue(after, `${P}http_requests_total`, { method: "GET", route: "/voices/:id", status: "404" })).toBe(1);
    expect(sampleValue(after, `${P}http_requests_total`, { method: "GET", route: "unmatched", status: "404" })).toBe(1);
    // No label anywhere carries a raw id or path.
    for (const s of after) for (const v of Object.values(s.labels)) expect(v).not.toMatch(/a_doesnot|v_nope|12345/);
    expect(sampleValue(after, `${P}http_request_duration_seconds_count`, { method: "POST", route: "/synthesize", status: "201" })).toBe(1);
    expect(sampleValue(after, `${P}http_request_duration_seconds_bucket`, { method: "POST", route: "/synthesize", status: "201", le: "+Inf" })).toBe(1);
  });

  it("shows each backend's running and waiting jobs while they run", async () => {
    backend.delayMs = 400;
    try {
      const pending = gw.api("/synthesize", jsonPost({ text: "Slow.", voice: "builtin:中文女" }));
      await new Promise((r) => setTimeout(r, 150));
      const during = await scrape();
      expect(sampleValue(during, `${P}backend_jobs`, { backend: "backend-1", state: "running" })).toBe(1);
      expect(sampleValue(during, `${P}backend_jobs`, { backend: "backend-1", state: "waiting" })).toBe(0);
      expect((await pending).status).toBe(201);
      expect(sampleValue(await scrape(), `${P}backend_jobs`, { backend: "backend-1", state: "running" })).toBe(0);
    } finally {
      backend.delayMs = 0;
    }
  });

  it("counts rate-limit refusals by reason", async () => {
    const before = sampleValue(await scrape(), `${P}refusals_total`, { reason: "rate_limited" });
    let refused = 0;
    for (let i = 0; i < 4; i++) if ((await gw.api("/synthesize", jsonPost({ text: "Again.", voice: "builtin:中文女" }))).status === 429) refused++;
    expect(refused).toBeGreaterThan(0);
    expect(sampleValue(await scrape(), `${P}refusals_total`, { reason: "rate_limited" }) - before).toBe(refused);
  });

  it("includes the process metrics", async () => {
    const s = await scrape();
    expect(sampleValue(s, `${P}process_resident_memory_bytes`)).toBeGreaterThan(0);
    expect(s.some((x) => x.name === `${P}nodejs_eventloop_lag_seconds`)).toBe(true);
  });
});
