/**
 * The committed `src/generated/openapi.ts` is exactly what openapi-typescript makes of today's
 * `openapi.yaml`: a gateway change that reaches the document without a regenerated client fails
 * here (run `pnpm --filter cosyvoice3-client generate`).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { GENERATED_FILE, OPENAPI_YAML, typesFromOpenApi } from "../scripts/types-from-openapi.ts";

describe("generated types", () => {
  it("are what openapi.yaml generates now", async () => {
    expect(readFileSync(GENERATED_FILE, "utf8")).toBe(await typesFromOpenApi());
  });

  it("name every path of the document (a stale file would miss a new route)", () => {
    const doc = parse(readFileSync(OPENAPI_YAML, "utf8")) as { paths: Record<string, unknown> };
    const generated = readFileSync(GENERATED_FILE, "utf8");
    for (const path of Object.keys(doc.paths)) expect(generated).toContain(`    ${JSON.stringify(path)}: {`);
  });

  it("a different document gives different types (the comparison can fail)", async () => {
    const yaml = readFileSync(OPENAPI_YAML, "utf8").replace("operationId: listVoices", "operationId: listVoicesRenamed");
    expect(await typesFromOpenApi(yaml)).not.toBe(readFileSync(GENERATED_FILE, "utf8"));
  });
});
