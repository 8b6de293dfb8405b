/**
 * The OpenAPI 3.1 document, built with openapi3-ts from the same zod schemas the routes
 * validate with (zod's JSON Schema output: `io: "input"` for request bodies, `"output"` for
 * responses). `scripts/gen-openapi.ts` writes it to the repository's `openapi.yaml`.
 */
import { OpenApiBuilder, type OpenAPIObject, type OperationObject, type ResponseObject, type ResponsesObject, type SchemaObject } from "openapi3-ts/oas31";
import { z } from "zod";
import type { GatewayConfig } from "./config.ts";
import { PROBLEM_KINDS, problemType } from "./problems.ts";
import {
  CreateVoiceFormSchema,
  HealthSchema,
  ProblemSchema,
  ReadySchema,
  SynthesisCreatedSchema,
  SynthesizeBodySchema,
  VoiceListSchema,
  VoiceSchema,
} from "./schemas.ts";

function jsonSchema(schema: z.ZodType, io: "input" | "output"): SchemaObject {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest as SchemaObject;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A problem response for a status, listing the problem types that come with it. */
function problem(status: number): ResponseObject {
  const kinds = Object.entries(PROBLEM_KINDS).filter(([, k]) => k.status === status);
  const seen = new Set<string>();
  const lines = kinds
    .filter(([, k]) => !seen.has(k.slug) && seen.add(k.slug))
    .map(([code, k]) => `- \`${problemType(code as keyof typeof PROBLEM_KINDS)}\`: ${k.when}`);
  return {
    description: `${kinds[0]?.[1].title ?? "Error"}. Problem types:\n${lines.join("\n")}`,
    content: { "application/problem+json": { schema: ref("Problem") } },
  };
}

const header = (description: string, schema: SchemaObject = { type: "string" }) => ({ description, schema });
const RATE_HEADERS = {
  RateLimit: header("Remaining quota (IETF draft 8): `\"<policy>\"; r=<remaining>; t=<seconds to reset>`"),
  "RateLimit-Policy": header("The quota (IETF draft 8): `\"<policy>\"; q=<limit>; w=<window seconds>`"),
};

function responses(codes: number[], ok: Record<string, ResponseObject>): ResponsesObject {
  const out: Record<string, ResponseObject> = { ...ok };
  for (const c of codes) out[String(c)] = problem(c);
  // Every route may fail unexpectedly.
  out["500"] = problem(500);
  if (out["429"]) {
    out["429"] = {
      ...out["429"],
      headers: { "Retry-After": header("Seconds until the quota resets", { type: "integer" }), ...RATE_HEADERS },
    };
  }
  for (const c of ["503"]) {
    if (out[c]) out[c] = { ...out[c], headers: { "Retry-After": header("Seconds to wait before retrying", { type: "integer" }) } };
  }
  return out;
}

const json = (name: string, description: string, headers?: ResponseObject["headers"]): ResponseObject => ({
  description,
  content: { "application/json": { schema: ref(name) } },
  ...(headers ? { headers } : {}),
});

const idParam = (description: string) => ({ name: "id", in: "path" as const, required: true, schema: { type: "string" as const }, description });

/**
 * The document for a configuration (limits shape a few schemas, e.g. the text cap).
 * @example const doc = buildOpenApi(defaultConfig()); doc.paths["/synthesize"].post
 */
export function buildOpenApi(config: Pick<GatewayConfig, "maxTextChars" | "maxUploadBytes">): OpenAPIObject {
  const secured = [{ bearer: [] }, {}];
  const b = OpenApiBuilder.create()
    .addOpenApiVersion("3.1.0")
    .addInfo({
      title: "CosyVoice3 gateway",
      version: "0.1.0",
      description:
        "Clean REST in front of a CosyVoice3 web UI: clone a voice once by upload, reuse it by id, synthesize speech, fetch or stream the audio. " +
        "Errors are RFC 9457 problem+json; every response carries X-Request-Id. When API keys are configured, send `Authorization: Bearer <key>`. " +
        "Any request may also be refused by the HTTP parser before it reaches a route, with the same problem+json and `Connection: close`: " +
        "400 `malformed-request`, 408 `request-timeout` (not received within REQUEST_TIMEOUT_MS), 431 `headers-too-large`.",
    })
    .addSecurityScheme("bearer", { type: "http", scheme: "bearer", description: "An API key from API_KEYS (only when keys are configured)" })
    .addSchema("SynthesizeRequest", jsonSchema(SynthesizeBodySchema(config.maxTextChars), "input"))
    .addSchema("SynthesisCreated", jsonSchema(SynthesisCreatedSchema, "output"))
    .addSchema("Voice", jsonSchema(VoiceSchema, "output"))
    .addSchema("VoiceList", jsonSchema(VoiceListSchema, "output"))
    .addSchema("Problem", jsonSchema(ProblemSchema, "output"))
    .addSchema("Health", jsonSchema(HealthSchema, "output"))
    .addSchema("Ready", jsonSchema(ReadySchema, "output"));

  const form = jsonSchema(CreateVoiceFormSchema, "input");
  (form.properties as Record<string, SchemaObject>)["audio"] = {
    type: "string",
    contentMediaType: "application/octet-stream",
    description: `Prompt audio file (WAV, FLAC, Ogg, MP3 or M4A), at least 16 kHz, at most 30 s, at most ${config.maxUploadBytes} bytes`,
  };

  b.addPath("/voices", {
    get: {
      operationId: "listVoices",
      summary: "List the built-in speakers and the saved voices",
      security: secured,
      responses: responses([401, 429, 502, 503, 504], { "200": json("VoiceList", "Built-in speakers (`builtin:<name>`) first, then saved voices") }),
    },
    post: {
      operationId: "createVoice",
      summary: "Save a cloned voice from prompt audio",
      security: secured,
      requestBody: { required: true, content: { "multipart/form-data": { schema: form } } },
      responses: responses([400, 401, 403, 413, 415, 422, 429, 503], {
        "201": json("Voice", "The saved voice", { Location: header("/voices/{id}") }),
      }),
    },
  });
  b.addPath("/voices/{id}", {
    parameters: [idParam("`builtin:<speaker>` or a saved voice's `v_...` id")],
    get: {
      operationId: "getVoice",
      summary: "One voice",
      security: secured,
      responses: responses([400, 401, 404, 429, 502, 503, 504], { "200": json("Voice", "The voice") }),
    },
    delete: {
      operationId: "deleteVoice",
      summary: "Delete a saved voice",
      security: secured,
      responses: responses([400, 401, 403, 404, 409, 429, 502, 503], { "204": { description: "Deleted" } }),
    },
  });
  b.addPath("/synthesize", {
    post: {
      operationId: "synthesize",
      summary: "Synthesize speech with a voice",
      description:
        "Without streaming: waits for the whole clip, stores it, answers 201 with its id and url. " +
        "With `\"stream\": true` or `Accept: audio/aac`: answers 200 and sends AAC (ADTS) chunks as the model produces them; " +
        "the whole clip is kept under the id in `X-Audio-Id` once the stream ends. An error after the first chunk cuts the connection.",
      security: secured,
      requestBody: { required: true, content: { "application/json": { schema: ref("SynthesizeRequest") } } },
      responses: responses([400, 401, 403, 404, 413, 415, 422, 429, 502, 503, 504], {
        "201": json("SynthesisCreated", "The clip was generated and stored", { Location: header("/audio/{id}") }),
        "200": {
          description: "Streamed audio (AAC in ADTS frames, chunked)",
          headers: {
            "X-Audio-Id": header("Id of the whole clip, fetchable at /audio/{id} once the stream ends"),
            "Content-Location": header("/audio/{id}"),
          },
          content: { "audio/aac": { schema: { type: "string", contentMediaType: "audio/aac" } } },
        },
      }),
    },
  });
  const audioOk = (status: string, description: string): ResponseObject => ({
    description,
    headers: {
      ETag: header("Strong validator of the clip"),
      "Accept-Ranges": header("bytes"),
      "Content-Length": header("Bytes in this response", { type: "integer" }),
      "Cache-Control": header("Cacheable until the clip expires"),
      ...(status === "206" ? { "Content-Range": header("bytes start-end/total") } : {}),
    },
    content: {
      "audio/wav": { schema: { type: "string", contentMediaType: "audio/wav" } },
      "audio/aac": { schema: { type: "string", contentMediaType: "audio/aac" } },
    },
  });
  const audioOp = (method: string): OperationObject => ({
    operationId: `${method}Audio`,
    summary: method === "get" ? "The audio bytes (Range supported)" : "The audio's headers",
    responses: responses([400, 401, 404, 416, 429, 503], {
      "200": audioOk("200", "The whole clip"),
      "206": audioOk("206", "The requested byte range"),
      "304": { description: "Not modified (If-None-Match matched the ETag)" },
    }),
  });
  b.addPath("/audio/{id}", {
    parameters: [idParam("Audio id (`a_...`) from POST /synthesize or X-Audio-Id")],
    get: audioOp("get"),
    head: audioOp("head"),
  });
  b.addPath("/healthz", {
    get: { operationId: "health", summary: "The process is alive", responses: { "200": json("Health", "Alive") } },
  });
  b.addPath("/readyz", {
    get: {
      operationId: "ready",
      summary: "At least one backend answers and is a recognised CosyVoice UI; the state of each",
      responses: { "200": json("Ready", "Ready"), "503": problem(503), "500": problem(500) },
    },
  });
  b.addPath("/metrics", {
    get: {
      operationId: "metrics",
      summary: "Prometheus metrics: requests by route template and status, backend jobs and breakers, cache, refusals, process",
      responses: { "200": { description: "Prometheus text format 0.0.4", content: { "text/plain": { schema: { type: "string" } } } } },
    },
  });
  b.addPath("/openapi.json", {
    get: {
      operationId: "openapi",
      summary: "This document",
      responses: { "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } } },
    },
  });
  b.addPath("/docs", {
    get: {
      operationId: "docs",
      summary: "Swagger UI",
      responses: {
        "200": { description: "HTML (at /docs/)", content: { "text/html": { schema: { type: "string" } } } },
        "301": { description: "Redirect to /docs/", headers: { Location: header("/docs/") } },
      },
    },
  });
  return b.getSpec();
}
