import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../src/platform/config.ts";
import { startGateway } from "../src/server.ts";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { jsonPost } from "./helpers/harness.ts";

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
};

async function start(delayMs: number, shutdownGraceMs: number) {
  const backend = new FakeBackend();
  backend.delayMs = delayMs;
  const config = defaultConfig({ port: 0, host: "127.0.0.1", dataDir: mkdtempSync(join(tmpdir(), "gw-stop-")), shutdownGraceMs });
  const gw = await startGateway(config, pino({ level: "silent" }), { backend });
  return { gw, backend };
}

describe("graceful shutdown on SIGTERM", () => {
  it("lets a running job finish within the grace period, then refuses new connections", async () => {
    const { gw, backend } = await start(300, 10_000);
    const running = fetch(gw.url + "/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }));
    await until(() => backend.calls.length === 1);
    const stopped = gw.stop();
    const res = await running;
    expect(res.status).toBe(201);
    await stopped;
    expect(backend.calls[0]?.outcome).toBe("done");
    await expect(fetch(gw.url + "/healthz")).rejects.toThrow();
  });

  it("cancels the jobs still running when the grace period is over", async () => {
    const { gw, backend } = await start(30_000, 100);
    const running = fetch(gw.url + "/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }));
    await until(() => backend.calls.length === 1);
    await gw.stop();
    const res = await running;
    expect(res.status).toBe(503);
    expect(((await res.json()) as { type: string }).type).toBe("urn:cosyvoice3-gateway:problem:shutting-down");
    expect(backend.calls[0]?.outcome).toBe("aborted");
  });
});
