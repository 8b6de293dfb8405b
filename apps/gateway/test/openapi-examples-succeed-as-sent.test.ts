/**
 * Every request example of the OpenAPI document, sent as it is (only the placeholder ids
 * replaced, as the descriptions say), succeeds with the documented success status against the
 * real stand-in running the embedded default's UI (cv3-en, CosyVoice3). Swagger UI's "Try it
 * out" sends exactly these.
 */
import { synthWav } from "@cosyvoice3/testkit";
import type { MediaTypeObject, OpenAPIObject, OperationObject, ParameterObject, SchemaObject } from "openapi3-ts/oas31";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLACEHOLDER } from "../src/doors/openapi/examples.ts";
import { startFullStack, type FullStack } from "./helpers/full-stack.ts";

let stack: FullStack;
let doc: OpenAPIObject;
beforeAll(async () => {
  stack = await startFullStack({ variant: "cv3-en", model: "cosyvoice3" });
  doc = (await stack.gw.api("/openapi.json")).json;
}, 90_000);
afterAll(() => stack?.close());

const METHODS = ["get", "head", "post", "put", "patch", "delete"] as const;
/** Creating comes first (it gives the ids), deleting last. */
const rank = (method: string, path: string) => (method === "post" && path === "/voices" ? 0 : method === "post" ? 1 : method === "delete" ? 3 : 2);

interface Sent {
  operation: string;
  example: string;
  status: number;
  expected: number;
}

describe("the OpenAPI document's examples, sent as they are", () => {
  it("each one answers its documented success status", async () => {
    const ids: Record<string, string> = {};
    const replace = (s: string) => s.replaceAll(PLACEHOLDER.voice, ids["voice"] ?? PLACEHOLDER.voice).replaceAll(PLACEHOLDER.audio, ids["audio"] ?? PLACEHOLDER.audio);
    const ops = Object.entries(doc.paths ?? {})
      .flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => ({ path, method: m, op: item[m] as OperationObject, params: (item.parameters ?? []) as ParameterObject[] })))
      .sort((a, b) => rank(a.method, a.path) - rank(b.method, b.path));
    const sent: Sent[] = [];

    for (const { path, method, op, params } of ops) {
      const expected = Number(Object.keys(op.responses ?? {}).find((s) => /^2\d\d$/.test(s)));
      let url = path;
      for (const p of [...params, ...((op.parameters ?? []) as ParameterObject[])]) {
        if (p.in !== "path") continue;
        expect(p.example, `${method} ${path}: path parameter ${p.name} has an example`).toBeTypeOf("string");
        url = url.replace(`{${p.name}}`, encodeURIComponent(replace(String(p.example))));
      }
      const bodies: { name: string; init: RequestInit }[] = [];
      const content = (op.requestBody as { content?: Record<string, MediaTypeObject> } | undefined)?.content ?? {};
      for (const [type, media] of Object.entries(content)) {
        const examples = media.examples
          ? Object.entries(media.examples).map(([name, e]) => ({ name, value: (e as { value: unknown }).value }))
          : [{ name: "example", value: media.example }];
        expect(examples.every((e) => e.value !== undefined), `${method} ${path}: ${type} has an example`).toBe(true);
        for (const { name, value } of examples) {
          if (type === "application/json") {
            bodies.push({ name, init: { method: method.toUpperCase(), headers: { "content-type": type, accept: "application/json" }, body: replace(JSON.stringify(value)) } });
          } else if (type === "multipart/form-data") {
            const form = new FormData();
            for (const [k, v] of Object.entries(value as Record<string, string>)) form.set(k, replace(v));
            // The file fields are the reader's own: a few seconds of speech.
            for (const [k, prop] of Object.entries(((media.schema as SchemaObject).properties ?? {}) as Record<string, SchemaObject>)) {
              if (prop.contentMediaType) form.set(k, new Blob([new Uint8Array(synthWav({ sampleRate: 24_000, seconds: 3 }))], { type: "audio/wav" }), "prompt.wav");
            }
            bodies.push({ name, init: { method: "POST", body: form } });
          } else {
            expect.fail(`${method} ${path}: no way to send ${type} in this test`);
          }
        }
      }
      if (bodies.length === 0) bodies.push({ name: "(no body)", init: { method: method.toUpperCase() } });

      for (const { name, init } of bodies) {
        const res = await stack.gw.api(url, init);
        sent.push({ operation: `${method.toUpperCase()} ${path}`, example: name, status: res.status, expected });
        expect(res.status, `${method.toUpperCase()} ${path} example ${name}: ${JSON.stringify(res.json)}`).toBe(expected);
        if (method === "post" && path === "/voices") ids["voice"] = res.json.id;
        if (method === "post" && path === "/synthesize") ids["audio"] ??= res.json.id;
      }
    }
    // Every operation was exercised, every mode the embedded default has among the examples.
    expect(new Set(sent.map((s) => s.operation)).size).toBe(ops.length);
    const synth = sent.filter((s) => s.operation === "POST /synthesize").map((s) => s.example);
    expect(synth).toEqual(expect.arrayContaining(["clone", "crossLingual", "instructControls", "instructText"]));
  }, 120_000);
});
