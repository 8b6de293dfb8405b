/**
 * Checks every response a test receives against the OpenAPI document: the status must be
 * documented for that operation, the Content-Type must be one it documents, and a JSON body must
 * match its schema. Error bodies must be problem+json whatever the route.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import type { OpenAPIObject, OperationObject, ResponseObject } from "openapi3-ts/oas31";
import { expect } from "vitest";
import { defaultConfig } from "../../src/platform/config.ts";
import { buildOpenApi } from "../../src/doors/openapi/document.ts";

const DOC_ID = "https://cosyvoice3-gateway.test/openapi";

export class Contract {
  readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  readonly seen = new Set<string>();
  private readonly paths: { template: string; re: RegExp }[];

  constructor(readonly doc: OpenAPIObject = buildOpenApi(defaultConfig())) {
    this.ajv.addSchema({ $id: DOC_ID, components: doc.components }, DOC_ID);
    this.paths = Object.keys(doc.paths ?? {}).map((template) => ({
      template,
      re: new RegExp("^" + template.replace(/\{[^}]+\}/g, "[^/]+") + "$"),
    }));
  }

  private validate(ref: string, body: unknown, where: string): void {
    const validate = this.ajv.getSchema(DOC_ID + ref);
    if (!validate) throw new Error(`no schema ${ref}`);
    if (!validate(body)) {
      expect.fail(`${where}: body does not match ${ref}: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
    }
  }

  /** Checks one response; `body` is the parsed JSON body when there is one. */
  check(method: string, url: string, status: number, contentType: string | null, body: unknown): void {
    const path = new URL(url, "http://x").pathname;
    const where = `${method} ${path} -> ${status}`;
    const type = (contentType ?? "").split(";")[0]?.trim() ?? "";
    if (status >= 400 && (path === "/v1" || path.startsWith("/v1/"))) {
      // OpenAI's speech API answers errors in OpenAI's shape.
      expect(type, `${where}: error content type`).toBe("application/json");
      this.validate("#/components/schemas/OpenAIError", body, where);
    } else if (status >= 400) {
      expect(type, `${where}: error content type`).toBe("application/problem+json");
      this.validate("#/components/schemas/Problem", body, where);
    }
    const match = this.paths.find((p) => p.re.test(path));
    const op = match ? ((this.doc.paths ?? {})[match.template] as Record<string, OperationObject>)[method.toLowerCase()] : undefined;
    if (!match || !op) return; // not a documented operation (unknown path, 405)
    // An explicit code, else its range ("2XX"), as OpenAPI resolves them.
    const response = (op.responses?.[String(status)] ?? op.responses?.[`${String(status).charAt(0)}XX`]) as ResponseObject | undefined;
    expect(response, `${where}: status not documented`).toBeDefined();
    this.seen.add(`${method.toUpperCase()} ${match.template} ${status}`);
    if (!response?.content || method.toUpperCase() === "HEAD" || status === 304 || status === 204) return;
    const media = response.content[type];
    expect(media, `${where}: content type ${type} not documented (${Object.keys(response.content).join(", ")})`).toBeDefined();
    const ref = (media?.schema as { $ref?: string } | undefined)?.$ref;
    // Only JSON bodies are parsed; an SSE stream documents its events by reference.
    if (ref && status < 400 && /json/.test(type)) this.validate(ref, body, where);
  }
}

/** One shared contract for a test file. */
export const contract = new Contract();
