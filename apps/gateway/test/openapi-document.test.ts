import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiYaml } from "../src/openapi-yaml.ts";
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
    expect(Object.keys(res.json.paths)).toEqual(["/voices", "/voices/{id}", "/synthesize", "/audio/{id}", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"]);
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
    const { PROBLEM_KINDS } = await import("../src/problems.ts");
    const readme = readFileSync(resolve(import.meta.dirname, "../README.md"), "utf8");
    for (const kind of Object.values(PROBLEM_KINDS)) {
      if (kind.status === 499) continue; // never sent: nobody is listening
      expect(readme).toContain(`| \`${kind.slug}\` | ${kind.status} |`);
    }
  });
});
