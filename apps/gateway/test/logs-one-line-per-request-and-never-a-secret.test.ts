/**
 * The gateway's log: JSON lines without a terminal (or with LOG_FORMAT=json), one readable line
 * per request on a terminal (or LOG_FORMAT=pretty), and in neither format an API key, an
 * Authorization header, a cookie, a sign-in token or a key in a query string. Each format runs
 * the real gateway (REST, /v1, the passthrough and its browser sign-in, a refused key) with
 * secrets planted in every place a client puts them, then the whole log output is searched.
 * The last test runs the built `dist/main.js` under a pseudo-terminal (`script`), as a person
 * starts it, and through a pipe, as systemd or docker do.
 */
import { spawn, spawnSync } from "node:child_process";
import { Writable } from "node:stream";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../src/platform/config.ts";
import { createLogger, resolveLogFormat, scrubUrl } from "../src/platform/logging.ts";
import { startGateway, type RunningGateway } from "../src/server.ts";
import { startEchoBackend, tempRoot, type EchoBackend } from "./helpers/passthrough.ts";

const KEY = "key-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const WRONG_KEY = "key-WRONGWRONGWRONGWRONGWRONGWRONG";
const COOKIE = "COOKIESECRETCOOKIESECRET";
const X_API_KEY = "XAPIKEYSECRETXAPIKEYSECRET";
const QUERY_KEY = "QUERYSECRETQUERYSECRET";

/** Everything written, and the lines. */
function capture() {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text, lines: () => text.split("\n").filter((l) => l !== "") };
}

/** Every request a client may send a secret with; resolves with the sign-in cookie's token. */
async function sendSecrets(url: string): Promise<string[]> {
  const auth = { authorization: `Bearer ${KEY}`, cookie: `other=${COOKIE}`, "x-api-key": X_API_KEY };
  await fetch(`${url}/voices`, { headers: auth });
  await fetch(`${url}/voices?api_key=${QUERY_KEY}&x=1`, { headers: { authorization: `Bearer ${WRONG_KEY}` } }); // 401
  await fetch(`${url}/v1/audio/speech`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ input: "Hi.", voice: "nobody" }) });
  await fetch(`${url}/echo/headers?token=${QUERY_KEY}`, { headers: auth });
  // The browser sign-in: the key in a form body, a signed token in Set-Cookie, then the cookie.
  const signIn = await fetch(`${url}/sign-in`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `key=${KEY}&next=/echo/` });
  const token = /=([^;]+)/.exec(signIn.headers.get("set-cookie") ?? "")?.[1];
  expect(token, "the sign-in set a cookie").toBeDefined();
  await fetch(`${url}/echo/headers`, { headers: { cookie: `cv3gw_session=${token}` } });
  return [KEY, WRONG_KEY, COOKIE, X_API_KEY, QUERY_KEY, decodeURIComponent(token!)];
}

describe.each(["json", "pretty"] as const)("LOG_FORMAT=%s", (format) => {
  const tmp = tempRoot(`logs-${format}-`);
  const log = capture();
  let echo: EchoBackend;
  let gw: RunningGateway;
  let secrets: string[];

  beforeAll(async () => {
    echo = await startEchoBackend();
    const routesFile = join(tmp.root, "routes.yaml");
    (await import("node:fs")).writeFileSync(routesFile, `routes:\n  - path: /echo/\n    kind: http\n    backends: ["${echo.url}"]\n`);
    const config = defaultConfig({ port: 0, host: "127.0.0.1", dataDir: join(tmp.root, "data"), apiKeys: [KEY], routesFile, cosyvoiceUrls: ["http://127.0.0.1:1"], healthCheckIntervalMs: 0, shutdownGraceMs: 500 });
    gw = await startGateway(config, createLogger({ level: "info", format, destination: log.stream, colorize: false }));
    secrets = await sendSecrets(gw.url);
    await new Promise((r) => setTimeout(r, 100)); // the last request's line is written on its "close"
  });
  afterAll(async () => {
    await gw?.stop();
    await echo?.close();
    tmp.cleanup();
  });

  it("contains no key, Authorization header, cookie, sign-in token or key in a query", () => {
    const text = log.text();
    expect(text.length).toBeGreaterThan(200);
    for (const secret of secrets) expect(text, `${secret} is in the log`).not.toContain(secret);
    expect(text.toLowerCase()).not.toMatch(/"authorization"|"cookie"|"set-cookie"|"x-api-key"/);
  });

  it(format === "json" ? "is one JSON object per line, with the request's other headers" : "is one line per request: method, path, status, time", () => {
    const lines = log.lines();
    if (format === "json") {
      const records = lines.map((l) => JSON.parse(l) as { req?: { method: string; url: string; headers: Record<string, string> }; res?: { statusCode: number } });
      const voices = records.filter((r) => r.req?.url.startsWith("/voices"));
      // No backend answers here (502); the wrong key is a 401.
      expect(voices.map((r) => r.res?.statusCode)).toEqual([502, 401]);
      expect(voices[0]?.req?.headers).toHaveProperty("host");
      expect(voices[1]?.req?.url).toBe("/voices?api_key=[redacted]&x=1");
    } else {
      expect(lines.some((l) => l.trimStart().startsWith("{"))).toBe(false);
      const requests = lines.filter((l) => / -> \d{3}/.test(l));
      // Six requests were sent (two through the passthrough), six request lines.
      expect(requests).toHaveLength(6);
      expect(requests.filter((l) => /GET \/echo\/headers -> 200 {2}\d+ ms {2}\(route echo\)/.test(l))).toHaveLength(2);
      expect(requests.filter((l) => l.includes("GET /voices"))).toHaveLength(2);
      expect(requests.find((l) => l.includes("GET /voices ->"))).toMatch(/^\[\d\d:\d\d:\d\d\] ERROR: GET \/voices -> 502 {2}\d+ ms/);
      expect(requests.find((l) => l.includes("GET /voices?"))).toMatch(/WARN: GET \/voices\?api_key=\[redacted\]&x=1 -> 401/);
      expect(requests.find((l) => l.includes("POST /v1/audio/speech"))).toBeDefined();
    }
  });
});

describe("the format in force", () => {
  it("is pretty on a terminal and JSON otherwise, unless LOG_FORMAT says", () => {
    expect(resolveLogFormat("auto", true)).toBe("pretty");
    expect(resolveLogFormat("auto", false)).toBe("json");
    expect(resolveLogFormat("auto", undefined)).toBe("json");
    expect(resolveLogFormat("json", true)).toBe("json");
    expect(resolveLogFormat("pretty", false)).toBe("pretty");
  });

  it("key-like query values are replaced, other parameters kept", () => {
    expect(scrubUrl("/a?key=1&format=mp3&access_token=2&Api-Key=3")).toBe("/a?key=[redacted]&format=mp3&access_token=[redacted]&Api-Key=[redacted]");
    expect(scrubUrl("/a")).toBe("/a");
  });

  const main = resolve(import.meta.dirname, "../dist/main.js");
  const hasScript = spawnSync("script", ["--version"]).status === 0;
  it.skipIf(!hasScript)("the built gateway logs pretty lines on a pseudo-terminal and JSON through a pipe", async () => {
    const tmp = tempRoot("logs-main-");
    const run = async (viaTty: boolean, extraEnv: Record<string, string> = {}) => {
      const env = { ...process.env, PORT: "0", HOST: "127.0.0.1", DATA_DIR: join(tmp.root, "data"), COSYVOICE_URL: "http://127.0.0.1:1", HEALTH_CHECK_INTERVAL_MS: "0", ...extraEnv };
      const child = viaTty ? spawn("script", ["-qfec", `${process.execPath} ${main}`, "/dev/null"], { env }) : spawn(process.execPath, [main], { env });
      let out = "";
      child.stdout.on("data", (b: Buffer) => (out += b.toString()));
      const end = Date.now() + 20_000;
      while (!/Swagger UI/.test(out) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      return out.split(/\r?\n/).filter((l) => l.includes("Swagger UI"));
    };
    try {
      const [tty] = await run(true);
      expect(tty).toMatch(/^\S*\[\d\d:\d\d:\d\d\]\S* \S*INFO\S*: \S*Swagger UI/);
      const [piped] = await run(false);
      expect(JSON.parse(piped!)).toMatchObject({ msg: "Swagger UI", level: 30 });
      const [forced] = await run(true, { LOG_FORMAT: "json" });
      expect(JSON.parse(forced!.trim())).toMatchObject({ msg: "Swagger UI" });
    } finally {
      tmp.cleanup();
    }
  });
});
