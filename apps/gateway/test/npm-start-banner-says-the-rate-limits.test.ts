/**
 * `npm start` (scripts/start-embedded.mjs) is where people explore, often with the openai
 * clients, which retry a 429 silently: a rate limit there looked like a hang. So npm start
 * relaxes the limits by default, `--production-limits` keeps the gateway's own, and the banner
 * says which are in force. Both starts are real (stand-in and built gateway, free ports), and
 * the gateway's `RateLimit-Policy` header shows the banner tells the truth.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../../..");

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

interface Started {
  child: ChildProcess;
  banner: string;
  url: string;
}

/** Runs npm start's script (no build: the test run builds first) until its banner is out. */
const dataDir = mkdtempSync(join(tmpdir(), "npm-start-test-"));

async function start(flags: string[], env: Record<string, string> = {}): Promise<Started> {
  const [port, standinPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [join(ROOT, "scripts/start-embedded.mjs"), "--no-build", "--port", String(port), "--standin-port", String(standinPort), ...flags], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: join(dataDir, String(port)), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  const end = Date.now() + 60_000;
  while (!/Ctrl-C stops both/.test(out)) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`npm start did not print its banner:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, banner: out, url: `http://127.0.0.1:${port}` };
}

const line = (banner: string) => banner.split("\n").find((l) => l.trim().startsWith("rate limits"))?.trim();

describe("npm start's rate limits", () => {
  let relaxed: Started;
  let production: Started;
  // Both start side by side (their own ports): the stand-in's start is most of the time.
  beforeAll(async () => {
    [relaxed, production] = await Promise.all([start([]), start(["--production-limits"], { RATE_LIMIT_READ: "7" })]);
  });
  afterAll(async () => {
    await Promise.all(
      [relaxed, production].map(async (r) => {
        const c = r?.child;
        if (c && c.exitCode === null) {
          const exited = new Promise((done) => c.once("exit", done));
          c.kill("SIGTERM");
          await exited;
        }
      }),
    );
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("are relaxed by default, and the banner says so and how to get the gateway's own", async () => {
    const running = relaxed;
    expect(line(running.banner)).toBe("rate limits         relaxed for exploring (npm start's default; --production-limits for the gateway's own)");
    const res = await fetch(`${running.url}/voices`);
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit-policy")).toMatch(/q=1000000;/);
  });

  it("with --production-limits are the gateway's own, and the banner prints them", async () => {
    const running = production;
    expect(line(running.banner)).toBe("rate limits         20 syntheses, 10 uploads, 7 reads per client per 1 min; past them 429 with Retry-After (OpenAI clients retry 429s silently)");
    const res = await fetch(`${running.url}/voices`);
    expect(res.headers.get("ratelimit-policy")).toMatch(/q=7;/);
  });
});
