/**
 * The routes file's two formats, as pure parsing: ours (validated by zod, published as a JSON
 * Schema that must match the committed `routes.schema.json`) and Ocelot's, where the article's
 * `ocelot.json` loads as it is and means what it says, every unsupported Ocelot key is named
 * (a warning when ignoring it is harmless, a refusal when it would open or misroute), and every
 * bad field is reported at its path.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parseRoutesFile, RoutesFileError, type FileIssue } from "../src/platform/routes-file/load.ts";
import { parsePeriod } from "../src/platform/routes-file/ocelot.ts";
import { routesJsonSchema, routesJsonSchemaText } from "../src/platform/routes-file/schema.ts";

const ARTICLE = readFileSync(resolve(import.meta.dirname, "fixtures/article-ocelot.json"), "utf8");

function issuesOf(text: string): FileIssue[] {
  try {
    parseRoutesFile(text, "routes.json");
  } catch (err) {
    if (err instanceof RoutesFileError) return [...err.issues];
    throw err;
  }
  throw new Error("the file was accepted");
}

const ocelot = (route: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    Routes: [
      {
        DownstreamPathTemplate: "/{everything}",
        DownstreamScheme: "http",
        DownstreamHostAndPorts: [{ Host: "localhost", Port: 7860 }],
        UpstreamPathTemplate: "/cosyvoice/{everything}",
        ...route,
      },
    ],
    ...extra,
  });

describe("the article's ocelot.json", () => {
  it("loads as it is: /cosyvoice/ and /asr/, 10 per second, 30 s, round-robin", () => {
    const c = parseRoutesFile(ARTICLE, "ocelot.json");
    expect(c.format).toBe("ocelot");
    const [cosy, asr] = c.routes;
    expect(cosy).toMatchObject({
      name: "cosyvoice",
      path: "/cosyvoice/",
      upstreamPath: "/",
      kind: "auto",
      balancer: "round-robin",
      timeoutMs: 30_000,
      rateLimit: { limit: 10, windowMs: 1_000, retryAfterSeconds: 1, whitelist: [] },
      backends: [{ url: "http://localhost:7860" }],
      caseSensitive: false,
    });
    expect(cosy?.methods).toEqual(["GET", "POST", "HEAD"]);
    // A route with no timeout gets Ocelot's default of 90 s, and NoLoadBalancer's "first".
    expect(asr).toMatchObject({ path: "/asr/", backends: [{ url: "http://localhost:8000" }], timeoutMs: 90_000, balancer: "first", rateLimit: undefined });
    // BaseUrl is read and said to be informational, not silently dropped.
    expect(c.notes).toEqual([expect.objectContaining({ path: "GlobalConfiguration.BaseUrl", severity: "info" })]);
  });

  it("the old name ReRoutes is read like Routes", () => {
    const c = parseRoutesFile(ARTICLE.replace('"Routes"', '"ReRoutes"'));
    expect(c.routes.map((r) => r.path)).toEqual(["/cosyvoice/", "/asr/"]);
  });
});

describe("Ocelot timeouts", () => {
  it("QoSOptions.TimeoutValue (ms) wins over Timeout (s), which wins over the article's TimeoutMs", () => {
    expect(parseRoutesFile(ocelot({ TimeoutMs: 30_000, Timeout: 20, QoSOptions: { TimeoutValue: 10_000 } })).routes[0]?.timeoutMs).toBe(10_000);
    expect(parseRoutesFile(ocelot({ TimeoutMs: 30_000, Timeout: 20 })).routes[0]?.timeoutMs).toBe(20_000);
    expect(parseRoutesFile(ocelot({ TimeoutMs: 30_000 })).routes[0]?.timeoutMs).toBe(30_000);
    expect(parseRoutesFile(ocelot({}, { GlobalConfiguration: { QoSOptions: { TimeoutValue: 5_000 } } })).routes[0]?.timeoutMs).toBe(5_000);
  });

  it("Period is a number and a unit", () => {
    expect([parsePeriod("1s"), parsePeriod("500ms"), parsePeriod("5m"), parsePeriod("1h"), parsePeriod("1d"), parsePeriod("1 week")]).toEqual([
      1_000, 500, 300_000, 3_600_000, 86_400_000, undefined,
    ]);
  });
});

describe("Ocelot keys we do not support are named", () => {
  it("a harmless one loads with a warning naming it", () => {
    const c = parseRoutesFile(ocelot({ FileCacheOptions: { TtlSeconds: 10 }, QoSOptions: { ExceptionsAllowedBeforeBreaking: 3, DurationOfBreak: 1000, TimeoutValue: 5000 } }));
    expect(c.notes.map((n) => [n.path, n.severity])).toEqual([
      ["Routes[0].FileCacheOptions", "warning"],
      ["Routes[0].QoSOptions.ExceptionsAllowedBeforeBreaking", "warning"],
      ["Routes[0].QoSOptions.DurationOfBreak", "warning"],
    ]);
  });

  it("one whose absence would open or misroute the route refuses the file, by name", () => {
    expect(issuesOf(ocelot({ UpstreamHost: "api.example.com" }))).toEqual([expect.objectContaining({ path: "Routes[0].UpstreamHost", message: expect.stringMatching(/UpstreamHost is not supported/) })]);
    expect(issuesOf(ocelot({ SecurityOptions: { IPAllowedList: ["10.0.0.1"] } }))[0]?.path).toBe("Routes[0].SecurityOptions");
    expect(issuesOf(ocelot({ AuthenticationOptions: { AuthenticationProviderKey: "Bearer", AllowedScopes: ["tts"] } }))[0]?.path).toBe("Routes[0].AuthenticationOptions.AllowedScopes");
    expect(issuesOf(ocelot({ DownstreamScheme: "ws" }))[0]).toMatchObject({ path: "Routes[0].DownstreamScheme" });
    expect(issuesOf(JSON.stringify({ Routes: [], Aggregates: [] }))[0]?.path).toBe("Aggregates");
  });

  it("a key outside Ocelot's vocabulary (a typo) refuses the file", () => {
    expect(issuesOf(ocelot({ UpstreamPathTemplte: "/x" }))).toEqual([{ path: "Routes[0].UpstreamPathTemplte", message: "unknown Ocelot key UpstreamPathTemplte" }]);
  });

  it("a ClientWhitelist entry that is not an address or key is said to match no client", () => {
    const c = parseRoutesFile(ocelot({ RateLimitOptions: { EnableRateLimiting: true, Limit: 5, Period: "1s", ClientWhitelist: ["admin-app", "10.0.0.0/8"] } }));
    expect(c.routes[0]?.rateLimit?.whitelist).toEqual(["admin-app", "10.0.0.0/8"]);
    expect(c.notes).toEqual([expect.objectContaining({ path: "Routes[0].RateLimitOptions.ClientWhitelist", message: expect.stringContaining('"admin-app" matches no client') })]);
  });

  it("EnableRateLimiting false (or absent) means no limit, as in Ocelot", () => {
    expect(parseRoutesFile(ocelot({ RateLimitOptions: { Limit: 10, Period: "1s" } })).routes[0]?.rateLimit).toBeUndefined();
  });
});

describe("bad fields are reported at their path", () => {
  it("Ocelot", () => {
    expect(issuesOf(ocelot({ RateLimitOptions: { EnableRateLimiting: true, Limit: 10, Period: "often" } }))).toEqual([
      { path: "Routes[0].RateLimitOptions.Period", message: expect.stringContaining("number and a unit") },
    ]);
    expect(issuesOf(ocelot({ DownstreamHostAndPorts: [{ Host: "localhost", Port: 99999 }] }))[0]?.path).toBe("Routes[0].DownstreamHostAndPorts[0].Port");
    expect(issuesOf(ocelot({ UpstreamPathTemplate: "/a/{x}/b/{y}" }))[0]?.path).toBe("Routes[0].UpstreamPathTemplate");
  });

  it("ours", () => {
    expect(issuesOf("routes:\n  - path: /cosyvoice/\n    backends: [ftp://x]\n")[0]?.path).toBe("routes[0].backends[0]");
    expect(issuesOf("routes:\n  - path: /cosyvoice/\n    backends: [http://a:1]\n    timeoutMs: 5\n")[0]?.path).toBe("routes[0].timeoutMs");
    expect(issuesOf("routes:\n  - path: /cosyvoice/\n    backends: [http://a:1]\n    colour: red\n")[0]?.message).toMatch(/colour/);
    expect(issuesOf("routes:\n  - path: /a/\n    backends: [http://a:1, http://a:1]\n")[0]).toEqual({ path: "routes[0].backends[1]", message: "http://a:1 is listed twice" });
    expect(issuesOf("routes:\n  - path: /a\n    backends: [http://a:1]\n  - path: /a/\n    backends: [http://b:1]\n").map((i) => i.path)).toEqual(["routes[1].name", "routes[1].path"]);
  });

  it("text that is neither JSON nor YAML says where", () => {
    expect(issuesOf('{"routes": [')[0]?.message).toMatch(/not valid JSON or YAML/);
  });
});

describe("our format", () => {
  it("fills every default and normalises the path", () => {
    const c = parseRoutesFile("routes:\n  - path: /cosyvoice\n    backends: [http://gpu-1:7860/, {url: http://gpu-2:7860, name: gpu-2}]\n");
    expect(c.routes[0]).toMatchObject({
      name: "cosyvoice",
      path: "/cosyvoice/",
      upstreamPath: "/",
      kind: "auto",
      balancer: "least-outstanding",
      timeoutMs: 30_000,
      auth: true,
      synthesis: false,
      caseSensitive: true,
      backends: [
        { name: "cosyvoice-1", url: "http://gpu-1:7860" },
        { name: "gpu-2", url: "http://gpu-2:7860" },
      ],
    });
  });

  it("the committed routes.schema.json is the one generated from the zod schema (npm run routes-schema)", () => {
    const committed = readFileSync(resolve(import.meta.dirname, "../../../routes.schema.json"), "utf8");
    expect(committed).toBe(routesJsonSchemaText());
  });

  it("the JSON Schema accepts what the loader accepts and refuses a typo", () => {
    const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(routesJsonSchema());
    const good = { routes: [{ path: "/cosyvoice/", backends: ["http://gpu-1:7860"], rateLimit: { limit: 10 }, kind: "gradio" }] };
    expect(validate(good)).toBe(true);
    expect(() => parseRoutesFile(JSON.stringify(good))).not.toThrow();
    expect(validate({ routes: [{ path: "/cosyvoice/", backends: ["http://gpu-1:7860"], timeout: 5 }] })).toBe(false);
  });
});
