/**
 * connect refuses what it does not recognise, saying what it found: older CosyVoice UIs run as
 * real gradio apps (8 parameters; speed_factor slider), an unrelated Gradio app, and HTTP
 * servers that are not Gradio at all. (gradio 4.x, which has no /gradio_api prefix, cannot run
 * in this venv; its /config is covered in variant-recognition.test.ts.)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@cosyvoice3/testkit";
import { CosyVoice, UnsupportedBackendError } from "../src/index.ts";
import { sleep } from "./helpers.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const PYTHON = process.env["STANDIN_PYTHON"] ?? join(ROOT, "apps/standin/.venv/bin/python");

type App = { url: string; gradioVersion: string };

/** The fixture apps, all served by one Python process (gradio is imported once, not per app). */
async function startOthers(shapes: string[]): Promise<{ child: ChildProcess; apps: Record<string, App> }> {
  const ports = await Promise.all(shapes.map(() => freePort()));
  const args = shapes.flatMap((shape, i) => ["--shape", shape, "--port", String(ports[i])]);
  const child = spawn(PYTHON, [join(dirname(fileURLToPath(import.meta.url)), "fixtures/other_ui.py"), ...args], {
    stdio: "ignore",
    env: { ...process.env, GRADIO_ANALYTICS_ENABLED: "False" },
  });
  const apps: Record<string, App> = {};
  for (const [i, shape] of shapes.entries()) {
    const url = `http://127.0.0.1:${ports[i]}`;
    // One Python imports gradio and builds the three apps: on a loaded machine that takes a while.
    const deadline = Date.now() + 80_000;
    while (!apps[shape]) {
      if (child.exitCode !== null) throw new Error(`fixture ${shape} exited with ${child.exitCode}`);
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`fixture ${shape} did not start`);
      }
      const config = await fetch(`${url}/config`).then((r) => (r.ok ? (r.json() as Promise<{ version: string }>) : undefined), () => undefined);
      if (config) apps[shape] = { url, gradioVersion: config.version };
      else await sleep(150);
    }
  }
  return { child, apps };
}

async function refusal(url: string): Promise<UnsupportedBackendError> {
  const err = await CosyVoice.connect(url, { maxRetries: 0 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UnsupportedBackendError);
  return err as UnsupportedBackendError;
}

describe("older or unrelated Gradio apps", () => {
  let apps: Record<string, App> = {};
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    ({ child, apps } = await startOthers(["eight-params", "speed-factor", "plain"]));
  });
  afterAll(() => {
    child?.kill("SIGTERM");
  });

  it("the 8-parameter UI (2024-07, no streaming)", async () => {
    const e = await refusal(apps["eight-params"]!.url);
    expect(e.message).toMatch(/expects 10 parameters, found 8/);
    // 5.4.0 by default; under test:compat the fixture runs on the newest 5.x or 6.x.
    expect(e.found).toMatchObject({ gradioVersion: apps["eight-params"]!.gradioVersion, apiPrefix: "/gradio_api" });
    expect(e.found["gradioVersion"]).toMatch(/^[56]\./);
    expect((e.found["parameters"] as { component: string }[]).map((p) => p.component)).toEqual([
      "textbox", "radio", "dropdown", "textbox", "audio", "audio", "textbox", "number",
    ]);
  });

  it("the speed_factor UI (2024-08, a 0.25..4 slider)", async () => {
    const e = await refusal(apps["speed-factor"]!.url);
    expect(e.message).toMatch(/parameter 10 \(speed\) should be a number, found slider/);
  });

  it("a Gradio app without generate_audio", async () => {
    const e = await refusal(apps["plain"]!.url);
    expect(e.found["endpoints"]).toEqual(["predict"]);
  });
});

describe("servers that are not Gradio", () => {
  let server: Server;
  let url = "";
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/html/config") {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html>hello</html>");
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("404 on /config", async () => {
    expect((await refusal(url)).found).toMatchObject({ status: 404 });
  });
  it("HTML instead of JSON", async () => {
    expect((await refusal(`${url}/html`)).message).toMatch(/did not answer JSON/);
  });
});
