import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/platform/config.ts";

describe("config from environment variables", () => {
  it("has the embedded defaults", () => {
    const c = loadConfig({}, "/srv/app");
    expect(c).toMatchObject({
      cosyvoiceUrls: ["http://127.0.0.1:7860"],
      model: "cosyvoice3",
      port: 5000,
      dataDir: "/srv/app/.data/gateway",
      upstreamTimeoutMs: 60_000,
      apiKeys: [],
      rateLimit: { windowMs: 60_000, synthesize: 20, upload: 10, read: 300 },
      concurrency: 2,
      queueSize: 2,
      maxTextChars: 2000,
    });
  });

  it("reads every variable", () => {
    const c = loadConfig({
      COSYVOICE_URL: "https://gpu.example:7860/",
      COSYVOICE_MODEL: "cosyvoice1",
      PORT: "8080",
      UPSTREAM_TIMEOUT_MS: "30000",
      API_KEYS: " aaaaaaaaaaaaaaaa , bbbbbbbbbbbbbbbb ,",
      RATE_LIMIT_SYNTHESIZE: "5",
      CONCURRENCY: "4",
      QUEUE_SIZE: "0",
      AUDIO_REQUIRES_KEY: "true",
      TRUST_PROXY: "1",
    });
    expect(c).toMatchObject({
      cosyvoiceUrls: ["https://gpu.example:7860/"],
      model: "cosyvoice1",
      port: 8080,
      upstreamTimeoutMs: 30_000,
      apiKeys: ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"],
      audioRequiresKey: true,
      trustProxy: 1,
      concurrency: 4,
      queueSize: 0,
    });
    expect(c.rateLimit.synthesize).toBe(5);
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["COSYVOICE_URL", "ftp://x"],
    ["COSYVOICE_MODEL", "cosyvoice4"],
    ["UPSTREAM_TIMEOUT_MS", "10"],
    ["RATE_LIMIT_SYNTHESIZE", "0"],
    ["MAX_TEXT_CHARS", "5000"],
    ["AUDIO_REQUIRES_KEY", "maybe"],
  ])("a bad %s (%s) stops start-up naming it", (name, value) => {
    try {
      loadConfig({ [name]: value });
      expect.fail("accepted");
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variables).toEqual([name]);
      expect((err as Error).message).toContain(`${name}:`);
    }
  });

  it("takes several backends as a comma-separated COSYVOICE_URL, and the Redis store settings", () => {
    const c = loadConfig({
      COSYVOICE_URL: " http://gpu-1:50000 , http://gpu-2:50000/ui ",
      HEALTH_CHECK_INTERVAL_MS: "2000",
      STORE: "redis",
      REDIS_URL: "redis://:pw@cache:6379/2",
    });
    expect(c.cosyvoiceUrls).toEqual(["http://gpu-1:50000", "http://gpu-2:50000/ui"]);
    expect(c).toMatchObject({ healthCheckIntervalMs: 2000, store: "redis", redisUrl: "redis://:pw@cache:6379/2", redisKeyPrefix: "cosyvoice3-gateway:" });
    expect(loadConfig({})).toMatchObject({ store: "disk", healthCheckIntervalMs: 10_000 });
    expect(loadConfig({}).cosyvoiceUrls).toEqual(["http://127.0.0.1:7860"]);
  });

  it.each([
    ["COSYVOICE_URL", "http://a:1,ftp://b"],
    ["COSYVOICE_URL", "http://a:1,http://a:1"],
    ["COSYVOICE_URL", " , "],
    ["HEALTH_CHECK_INTERVAL_MS", "50"],
    ["STORE", "memcached"],
    ["REDIS_KEY_PREFIX", "has space"],
  ])("a bad %s (%s) stops start-up naming it", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid configuration:\\n  ${name}:`));
  });

  it("STORE=redis needs REDIS_URL, and a bad REDIS_URL is not echoed (it may hold a password)", () => {
    expect(() => loadConfig({ STORE: "redis" })).toThrow(/REDIS_URL: required when STORE=redis/);
    try {
      loadConfig({ STORE: "redis", REDIS_URL: "http://user:s3cret@cache:6379" });
      expect.fail("accepted");
    } catch (err) {
      expect((err as ConfigError).variables).toEqual(["REDIS_URL"]);
      expect((err as Error).message).not.toContain("s3cret");
    }
  });

  it("reads CORS_ORIGINS as a list of origins (or *) and refuses an origin with a path", () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: "https://app.example.com, http://localhost:3000" }).corsOrigins).toEqual([
      "https://app.example.com",
      "http://localhost:3000",
    ]);
    expect(loadConfig({ CORS_ORIGINS: "*" }).corsOrigins).toEqual(["*"]);
    expect(() => loadConfig({ CORS_ORIGINS: "https://app.example.com/app" })).toThrow(/CORS_ORIGINS/);
  });

  it("refuses short API keys without echoing them", () => {
    expect(() => loadConfig({ API_KEYS: "short-secret" })).toThrow(/API_KEYS: every key must be at least 16 characters \(got "<redacted>"\)/);
  });

  it("reads a YAML config file, with the environment taking precedence", () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-config-"));
    writeFileSync(join(dir, "gateway.yaml"), "PORT: 7000\nRATE_LIMIT_READ: 50\nAPI_KEYS:\n  - aaaaaaaaaaaaaaaa\n  - bbbbbbbbbbbbbbbb\n");
    const c = loadConfig({ CONFIG_FILE: "gateway.yaml", PORT: "7001" }, dir);
    expect(c.port).toBe(7001);
    expect(c.rateLimit.read).toBe(50);
    expect(c.apiKeys).toEqual(["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"]);
    expect(() => loadConfig({ CONFIG_FILE: "missing.yaml" }, dir)).toThrow(/CONFIG_FILE/);
  });
});

describe("main refuses to start on a bad value", () => {
  it("exits 2 with the variable's name", async () => {
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../src/main.ts")], {
      cwd: join(import.meta.dirname, ".."),
      env: { ...process.env, PORT: "not-a-port", LOG_LEVEL: "silent" },
      encoding: "utf8",
      // tsx compiles the whole gateway first: far longer than the check itself on a loaded machine.
      timeout: 55_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("PORT:");
  });
});
