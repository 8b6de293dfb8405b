import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { MediaTypeObject, OperationObject, SchemaObject } from "openapi3-ts/oas31";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../src/platform/config.ts";
import { buildOpenApi } from "../src/doors/openapi/document.ts";
import { CREATE_VOICE_EXAMPLE, SYNTHESIZE_EXAMPLES } from "../src/doors/openapi/examples.ts";
import { openApiYaml } from "../src/doors/openapi/yaml.ts";
import { CreateVoiceFieldsSchema, SynthesizeBodySchema } from "../src/doors/rest/schemas.ts";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { startTestGateway, type TestGateway } from "./helpers/harness.ts";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ backend: new FakeBackend() });
});
afterAll(() => gw.close());

describe("openapi.yaml", () => {
  it("the committed file is what the schemas generate (run `pnpm --filter cosyvoice3-gateway openapi`)", () => {
    const committed = readFileSync(resolve(import.meta.dirname, "../../../openapi.yaml"), "utf8");
    expect(committed).toBe(openApiYaml());
  });

  it("GET /openapi.json serves the same document as the file", async () => {
    const res = await gw.api("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.json.openapi).toBe("3.1.0");
    expect(Object.keys(res.json.paths)).toEqual([
      "/voices", "/voices/{id}", "/synthesize", "/audio/{id}", "/capabilities", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs",
      "/v1/audio/speech", "/v1/models", "/v1/models/{id}", "/v1/audio/models", "/v1/audio/voices",
    ]);
    expect(res.json.components.schemas.SynthesizeRequest.properties.text.maxLength).toBe(2000);
    expect(res.json.components.schemas.SynthesizeRequest.properties.speed).toMatchObject({ minimum: 0.5, maximum: 2 });
  });

  it("documents every problem type the gateway can send", async () => {
    const doc = JSON.stringify((await gw.api("/openapi.json")).json);
    for (const slug of ["invalid-request", "unauthorized", "voice-not-found", "payload-too-large", "not-audio", "invalid-audio", "backend-warning", "rate-limited", "backend-unreachable", "busy", "deadline-exceeded"]) {
      expect(doc).toContain(`urn:cosyvoice3-gateway:problem:${slug}`);
    }
  });

  it("serves Swagger UI at /docs", async () => {
    const redirect = await gw.api("/docs", { redirect: "manual" });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get("location")).toBe("/docs/");
    const res = await fetch(gw.url + "/docs/");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("swagger-ui");
    const init = await fetch(gw.url + "/docs/swagger-ui-init.js");
    expect(init.status).toBe(200);
    expect(await init.text()).toContain("/synthesize");
  });
});

describe("README", () => {
  it("lists every problem type the gateway can send, with its status", async () => {
    const { PROBLEM_KINDS } = await import("../src/doors/problems.ts");
    const readme = readFileSync(resolve(import.meta.dirname, "../README.md"), "utf8");
    for (const kind of Object.values(PROBLEM_KINDS)) {
      if (kind.status === 499) continue; // never sent: nobody is listening
      expect(readme).toContain(`| \`${kind.slug}\` | ${kind.status} |`);
    }
  });
});

describe("what Swagger UI shows a new user", () => {
  const doc = buildOpenApi(defaultConfig());
  const text = JSON.stringify(doc);
  const ops = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    (["get", "head", "post", "delete"] as const).filter((m) => item[m]).map((m) => ({ path, method: m, op: item[m] as OperationObject })),
  );

  it("every operation has a tag among the document's tags (no 'default' group)", () => {
    const tags = (doc.tags ?? []).map((t) => t.name);
    expect(tags).toEqual(["voices", "synthesis", "audio", "health", "docs", "OpenAI"]);
    for (const { path, method, op } of ops) expect(op.tags?.length, `${method} ${path}`).toBe(1);
    for (const { op } of ops) expect(tags).toContain(op.tags?.[0]);
  });

  it("has a server relative to where it was fetched", () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: "/" })]);
  });

  it("no @unit, no non-standard format, no negative bound on a count, a size, a rate or a duration", () => {
    expect(text).not.toContain("@unit");
    const formats = [...text.matchAll(/"format":"([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(formats)).toEqual(new Set(["date-time"]));
    const walk = (v: unknown, path: string): void => {
      if (typeof v !== "object" || v === null) return;
      const o = v as Record<string, unknown>;
      if (/(bytes|sampleRate|durationMs|chunks|running|waiting|speakers|retryAfterSeconds)$/.test(path)) {
        expect(o["minimum"] ?? o["exclusiveMinimum"], path).toBeGreaterThanOrEqual(0);
      }
      for (const [k, c] of Object.entries(o)) walk(c, `${path}/${k}`);
    };
    walk(doc.components?.schemas, "");
  });

  it("every number in the whole document has both bounds, and none is the safe-integer range", () => {
    // zod's .int() alone documents ±(2^53-1): a client learns nothing and generated clients
    // accept anything. Walk everything: schemas, parameters, headers, the /v1 paths.
    const found: string[] = [];
    const unbounded: string[] = [];
    const walk = (v: unknown, path: string): void => {
      if (typeof v !== "object" || v === null) return;
      const o = v as Record<string, unknown>;
      const types = ([] as unknown[]).concat(o["type"]);
      if (types.includes("number") || types.includes("integer")) {
        found.push(path);
        const lo = o["minimum"] ?? o["exclusiveMinimum"];
        const hi = o["maximum"] ?? o["exclusiveMaximum"];
        const sane = (b: unknown) => typeof b === "number" && Math.abs(b) < Number.MAX_SAFE_INTEGER;
        if (!sane(lo) || !sane(hi) || (lo as number) > (hi as number)) unbounded.push(`${path}: [${String(lo)}, ${String(hi)}]`);
      }
      for (const [k, c] of Object.entries(o)) walk(c, `${path}/${k}`);
    };
    walk(doc, "");
    expect(found.length).toBeGreaterThan(40);
    expect(found).toEqual(expect.arrayContaining([expect.stringContaining("SpeechEvent"), expect.stringContaining("ModelList"), expect.stringContaining("AudioVoice"), expect.stringContaining("Retry-After")]));
    expect(unbounded).toEqual([]);
    // The committed file is this document (first test of this file); the same check on its text:
    const committed = readFileSync(resolve(import.meta.dirname, "../../../openapi.yaml"), "utf8");
    expect(committed).not.toMatch(/9007199254740991/);
  });

  it("seed and speed ranges are the schema's", () => {
    const props = (doc.components?.schemas?.["SynthesizeRequest"] as SchemaObject).properties as Record<string, SchemaObject>;
    expect(props["seed"]).toMatchObject({ type: "integer", minimum: 0, maximum: 4_294_967_295 });
    expect(props["speed"]).toMatchObject({ minimum: 0.5, maximum: 2 });
  });

  it("every example (request, response, problem) validates against its schema", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema({ $id: "doc", components: doc.components }, "doc");
    let checked = 0;
    const check = (schema: unknown, value: unknown, where: string) => {
      const target = (schema as { $ref?: string } | undefined)?.$ref;
      expect(target, `${where}: the schema is a component`).toBeDefined();
      const validate = ajv.compile({ $ref: `doc${target}` });
      expect(validate(value), `${where}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      checked++;
    };
    for (const { path, method, op } of ops) {
      const body = (op.requestBody as { content?: Record<string, MediaTypeObject> } | undefined)?.content?.["application/json"];
      for (const [name, e] of Object.entries(body?.examples ?? {})) check(body?.schema, (e as { value: unknown }).value, `${method} ${path} ${name}`);
      for (const [status, r] of Object.entries(op.responses ?? {})) {
        for (const [type, media] of Object.entries((r as { content?: Record<string, MediaTypeObject> }).content ?? {})) {
          if (media.example !== undefined && (media.schema as { $ref?: string } | undefined)?.$ref) check(media.schema, media.example, `${method} ${path} ${status} ${type}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  it("each operation lists the problems it can answer with, not every route's", () => {
    const slugs = (path: string, method: "get" | "post" | "delete", status: string) =>
      [...String(((doc.paths?.[path]?.[method] as OperationObject).responses?.[status] as { description?: string } | undefined)?.description ?? "").matchAll(/problem:([a-z-]+)/g)].map((m) => m[1]);
    expect(slugs("/voices", "post", "422")).toEqual(["invalid-audio"]);
    expect(slugs("/synthesize", "post", "503")).not.toContain("not-ready");
    expect(slugs("/synthesize", "post", "406")).toEqual(["not-acceptable"]);
    expect(slugs("/readyz", "get", "503")).toEqual(["not-ready"]);
    expect((doc.paths?.["/voices"]?.get as OperationObject).responses?.["422"]).toBeUndefined();
  });

  it("request examples parse with the zod schemas the routes validate with", () => {
    for (const [name, e] of Object.entries(SYNTHESIZE_EXAMPLES)) expect(SynthesizeBodySchema().safeParse(e.value).success, name).toBe(true);
    expect(CreateVoiceFieldsSchema.safeParse(CREATE_VOICE_EXAMPLE).success).toBe(true);
  });
});
