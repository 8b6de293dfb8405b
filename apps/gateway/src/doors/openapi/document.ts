/**
 * The OpenAPI 3.1 document, built with openapi3-ts from the same zod schemas the routes
 * validate with (zod's JSON Schema output: `io: "input"` for request bodies, `"output"` for
 * responses), with the examples of `openapi-examples.ts` and, per operation, the problems that
 * operation can really answer with. `scripts/gen-openapi.ts` writes it to `openapi.yaml`.
 */
import {
  OpenApiBuilder,
  type OpenAPIObject,
  type OperationObject,
  type ParameterObject,
  type ResponseObject,
  type ResponsesObject,
  type SchemaObject,
  type TagObject,
} from "openapi3-ts/oas31";
import { z } from "zod";
import { BYTES, RETRY_AFTER_SECONDS, SAMPLE_RATE } from "./bounds.ts";
import { CapabilitiesSchema } from "../../service/capabilities.ts";
import type { GatewayConfig } from "../../platform/config.ts";
import { AUDIO_FORMATS, FORMATS } from "../../service/encode/formats.ts";
import { SYNTHESIS_OFFERS } from "../../platform/http/negotiate.ts";
import { addOpenAIPaths } from "../openai/openapi.ts";
import {
  CAPABILITIES_EXAMPLE,
  CREATE_VOICE_EXAMPLE,
  HEALTH_EXAMPLE,
  PLACEHOLDER,
  problemExample,
  READY_EXAMPLE,
  REPLACE_AUDIO,
  REPLACE_VOICE,
  SYNTHESIS_CREATED_EXAMPLE,
  SYNTHESIZE_EXAMPLES,
  VOICE_EXAMPLE,
  VOICE_LIST_EXAMPLE,
} from "./examples.ts";
import { PROBLEM_KINDS, problemType, type ProblemCode, type ProblemStep } from "../problems.ts";
import {
  CreateVoiceFormSchema,
  HealthSchema,
  ProblemSchema,
  ReadySchema,
  SynthesisCreatedSchema,
  SynthesizeBodySchema,
  VoiceListSchema,
  VoiceSchema,
} from "../rest/schemas.ts";

/**
 * The document's tags, in the order Swagger UI shows them. Another front door (the OpenAI-style
 * `/v1` routes) adds its own entry here.
 */
export const TAGS: TagObject[] = [
  { name: "voices", description: "Clone a voice once from a few seconds of audio, then use it by id" },
  { name: "synthesis", description: "Speech from text with a voice, and what this backend can do" },
  { name: "audio", description: "The generated clips: whole, by Range, or their headers" },
  { name: "health", description: "Liveness and readiness, for load balancers" },
  { name: "docs", description: "This document and Swagger UI" },
];

/** `@unit x` is JSDoc for the code; in the document it reads as words. */
function wordsForUnits(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(wordsForUnits);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === "description" && typeof v === "string" ? v.replace(/\s*@unit\s+(\w+)/g, " (in $1)").trim() : wordsForUnits(v)]),
  );
}

function jsonSchema(schema: z.ZodType, io: "input" | "output"): SchemaObject {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return wordsForUnits(rest) as SchemaObject;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/**
 * The steps each operation goes through: its documented problems are the kinds that arise in
 * them (each kind says where in the problem table), besides 500 `internal`, which any may.
 */
const OPERATION_STEPS: Record<string, readonly ProblemStep[]> = {
  // Built-in speakers come from the backend (connected on first use): its failures show here.
  listVoices: ["auth", "quota", "store", "backend-speakers"],
  createVoice: ["auth", "scoped", "quota", "store", "params", "body", "upload"],
  getVoice: ["auth", "quota", "store", "params", "voice-id", "backend-speakers"],
  deleteVoice: ["auth", "scoped", "quota", "store", "params", "voice-id", "voice-delete", "backend-speakers"],
  synthesize: ["auth", "scoped", "quota", "store", "params", "json", "body", "negotiation", "voice-id", "synthesis"],
  getAudio: ["auth", "quota", "store", "params", "audio-id"],
  headAudio: ["auth", "quota", "store", "params", "audio-id"],
  ready: ["readiness"],
  capabilities: ["readiness"],
};

/** The problem kinds an operation can answer with, in the table's order. */
const problemsOf = (operationId: string): ProblemCode[] => {
  const steps = OPERATION_STEPS[operationId] ?? [];
  return (Object.keys(PROBLEM_KINDS) as ProblemCode[]).filter((c) => PROBLEM_KINDS[c].during?.some((s) => steps.includes(s)));
};

const header = (description: string, schema: SchemaObject = { type: "string" }) => ({ description, schema });
const RATE_HEADERS = {
  RateLimit: header("Remaining quota (IETF draft 8): `\"<policy>\"; r=<remaining>; t=<seconds to reset>`"),
  "RateLimit-Policy": header("The quota (IETF draft 8): `\"<policy>\"; q=<limit>; w=<window seconds>`"),
};
const RETRY_AFTER = (what: string) => header(what, { type: "integer", minimum: RETRY_AFTER_SECONDS.min, maximum: RETRY_AFTER_SECONDS.max });

/** The problem responses of an operation, one per status, each listing its problem types. */
function problems(operationId: string, instance: string): ResponsesObject {
  const codes = [...problemsOf(operationId), "internal" as const];
  const byStatus = new Map<number, ProblemCode[]>();
  for (const c of codes) byStatus.set(PROBLEM_KINDS[c].status, [...(byStatus.get(PROBLEM_KINDS[c].status) ?? []), c]);
  const out: ResponsesObject = {};
  for (const [status, kinds] of [...byStatus].sort(([a], [b]) => a - b)) {
    const seen = new Set<string>();
    const lines = kinds
      .filter((k) => !seen.has(PROBLEM_KINDS[k].slug) && seen.add(PROBLEM_KINDS[k].slug))
      .map((k) => `- \`${problemType(k)}\`: ${PROBLEM_KINDS[k].when}`);
    const [first] = kinds;
    const response: ResponseObject = {
      description: `${first ? PROBLEM_KINDS[first].title : "Error"}. Problem types:\n${lines.join("\n")}`,
      content: { "application/problem+json": { schema: ref("Problem"), ...(first ? { example: problemExample(first, instance) } : {}) } },
    };
    if (status === 429) response.headers = { "Retry-After": RETRY_AFTER("Seconds until the quota resets"), ...RATE_HEADERS };
    if (status === 503 && kinds.some((k) => k !== "shutting_down")) response.headers = { "Retry-After": RETRY_AFTER("Seconds to wait before retrying") };
    out[String(status)] = response;
  }
  return out;
}

const json = (name: string, description: string, example: unknown, headers?: ResponseObject["headers"]): ResponseObject => ({
  description,
  content: { "application/json": { schema: ref(name), example } },
  ...(headers ? { headers } : {}),
});

const idParam = (description: string, example: string): ParameterObject => ({
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string", minLength: 1, maxLength: 300 },
  description,
  example,
});

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
        "Start with POST /voices (a few seconds of speech and its transcript), then POST /synthesize with the voice id it answers; " +
        "GET /capabilities tells which modes, languages and instruct controls this backend offers.\n\n" +
        "Errors are RFC 9457 problem+json whose `errors[]` point at each field and say how to fix it; every response carries X-Request-Id. " +
        "When API keys are configured, send `Authorization: Bearer <key>`. Rate limits count requests that reached work: a request refused as invalid (4xx other than 429) is not counted. " +
        "Any request may also be refused by the HTTP parser before it reaches a route, with the same problem+json and `Connection: close`: " +
        "400 `malformed-request`, 408 `request-timeout` (not received within REQUEST_TIMEOUT_MS), 431 `headers-too-large`.",
    })
    .addServer({ url: "/", description: "This gateway (the origin this document was fetched from)" })
    .addSecurityScheme("bearer", { type: "http", scheme: "bearer", description: "An API key from API_KEYS (only when keys are configured)" })
    .addSchema("SynthesizeRequest", jsonSchema(SynthesizeBodySchema(config.maxTextChars), "input"))
    .addSchema("SynthesisCreated", jsonSchema(SynthesisCreatedSchema, "output"))
    .addSchema("Voice", jsonSchema(VoiceSchema, "output"))
    .addSchema("VoiceList", jsonSchema(VoiceListSchema, "output"))
    .addSchema("Problem", jsonSchema(ProblemSchema, "output"))
    .addSchema("Health", jsonSchema(HealthSchema, "output"))
    .addSchema("Ready", jsonSchema(ReadySchema, "output"))
    .addSchema("Capabilities", jsonSchema(CapabilitiesSchema, "output"));
  for (const tag of TAGS) b.addTag(tag);

  const form = jsonSchema(CreateVoiceFormSchema, "input");
  (form.properties as Record<string, SchemaObject>)["audio"] = {
    type: "string",
    contentMediaType: "application/octet-stream",
    description: `Prompt audio file (WAV, FLAC, Ogg, MP3 or M4A), at least 16 kHz, at most 30 s, at most ${config.maxUploadBytes} bytes. Send it as a file (curl: \`-F audio=@prompt.wav\`, with the @)`,
  };

  b.addPath("/voices", {
    get: {
      operationId: "listVoices",
      tags: ["voices"],
      summary: "List the built-in speakers and the saved voices",
      security: secured,
      responses: { "200": json("VoiceList", "Built-in speakers (`builtin:<name>`, CosyVoice 1 only) first, then saved voices", VOICE_LIST_EXAMPLE), ...problems("listVoices", "/voices") },
    },
    post: {
      operationId: "createVoice",
      tags: ["voices"],
      summary: "Save a cloned voice from prompt audio",
      description:
        "Upload 3 to 10 seconds of clear speech and its transcript (`promptText`); the answer's `id` is the voice to synthesize with. " +
        "Without promptText (an empty field counts as none) the voice does cross-lingual and instruct, not clone.",
      security: secured,
      requestBody: { required: true, content: { "multipart/form-data": { schema: form, example: CREATE_VOICE_EXAMPLE } } },
      responses: {
        "201": json("Voice", "The saved voice", VOICE_EXAMPLE, { Location: header("/voices/{id}") }),
        ...problems("createVoice", "/voices"),
      },
    },
  });
  b.addPath("/voices/{id}", {
    parameters: [idParam(`A saved voice's \`v_...\` id or \`builtin:<speaker>\` (URL-encoded). ${REPLACE_VOICE}`, PLACEHOLDER.voice)],
    get: {
      operationId: "getVoice",
      tags: ["voices"],
      summary: "One voice",
      security: secured,
      responses: { "200": json("Voice", "The voice", VOICE_EXAMPLE), ...problems("getVoice", "/voices/" + PLACEHOLDER.voice) },
    },
    delete: {
      operationId: "deleteVoice",
      tags: ["voices"],
      summary: "Delete a saved voice",
      security: secured,
      responses: { "204": { description: "Deleted" }, ...problems("deleteVoice", "/voices/" + PLACEHOLDER.voice) },
    },
  });
  const offers = SYNTHESIS_OFFERS.map((o) => `\`${o.type}\`: ${o.description}`).join("; ");
  b.addPath("/synthesize", {
    post: {
      operationId: "synthesize",
      tags: ["synthesis"],
      summary: "Synthesize speech with a voice",
      description:
        `${REPLACE_VOICE} ` +
        "Without streaming: waits for the whole clip, stores it, answers 201 with its id and url. " +
        "With `\"stream\": true` or `Accept: audio/aac`: answers 200 and sends AAC (ADTS) chunks as the model produces them " +
        "(with `format`, or `Accept: audio/mpeg`, `audio/ogg`, `audio/flac`, `audio/wav`, `audio/pcm`, encoded to that format as they come); " +
        "the whole clip is kept under the id in `X-Audio-Id` once the stream ends. An error after the first chunk cuts the connection. " +
        `\`Accept\` picks the answer (${offers}); one that allows none of them is 406, never ignored. ` +
        "Which modes, languages and instruct controls work depends on the backend: see GET /capabilities.",
      security: secured,
      requestBody: {
        required: true,
        content: { "application/json": { schema: ref("SynthesizeRequest"), examples: SYNTHESIZE_EXAMPLES } },
      },
      responses: {
        "201": json("SynthesisCreated", "The clip was generated and stored", SYNTHESIS_CREATED_EXAMPLE, { Location: header("/audio/{id}") }),
        // "2XX", not "200": Swagger UI lets the first 2xx response (in key order, where "200"
        // would come before "201") set the Accept header of "Try it out", which must be JSON.
        "2XX": {
          description:
            "200: streamed audio, chunked as it is generated, for `Accept: audio/aac` or `\"stream\": true`: AAC in ADTS frames as the backend made them, or (with `format` or another audio `Accept`) those encoded as they come",
          headers: {
            "X-Audio-Id": header("Id of the whole clip (the backend's AAC), fetchable at /audio/{id} once the stream ends"),
            "Content-Location": header("/audio/{id}, with ?format= for another format"),
            "X-Sample-Rate": header("Sample rate of an encoded stream (for pcm, the only place it is said)", { type: "integer", minimum: SAMPLE_RATE.min, maximum: SAMPLE_RATE.max }),
          },
          content: Object.fromEntries(
            ["aac" as const, ...AUDIO_FORMATS.filter((f) => f !== "aac")].map((f) => {
              const t = FORMATS[f].mimeType.split(";")[0] ?? f;
              return [t, { schema: { type: "string", contentMediaType: t } }];
            }),
          ),
        },
        ...problems("synthesize", "/synthesize"),
      },
    },
  });
  const audioOk = (status: string, description: string): ResponseObject => ({
    description,
    headers: {
      ETag: header("Strong validator of the clip"),
      "Accept-Ranges": header("bytes"),
      "Content-Length": header("Bytes in this response", { type: "integer", minimum: BYTES.min, maximum: BYTES.max }),
      "Cache-Control": header("Cacheable until the clip expires"),
      ...(status === "206" ? { "Content-Range": header("bytes start-end/total") } : {}),
    },
    // The clip as stored (audio/wav or audio/aac), or converted with ?format=.
    content: Object.fromEntries(
      [...new Set(["audio/wav", "audio/aac", ...AUDIO_FORMATS.map((f) => FORMATS[f].mimeType.split(";")[0] ?? f)])].map((t) => [t, { schema: { type: "string", contentMediaType: t } }]),
    ),
  });
  const audioOp = (method: "get" | "head"): OperationObject => ({
    operationId: `${method}Audio`,
    tags: ["audio"],
    parameters: [
      {
        name: "format",
        in: "query",
        required: false,
        schema: { type: "string", enum: [...AUDIO_FORMATS] },
        description: "The clip in another format (mp3, Ogg opus, ADTS aac, flac, wav, raw s16le pcm), converted on the first request and kept beside the clip",
      },
    ],
    summary: method === "get" ? "The audio bytes (Range supported)" : "The audio's headers",
    description: "No key needed unless AUDIO_REQUIRES_KEY is set: the id is an unguessable capability, so `<audio src>` can play it.",
    responses: {
      "200": audioOk("200", "The whole clip"),
      "206": audioOk("206", "The requested byte range"),
      "304": { description: "Not modified (If-None-Match matched the ETag)" },
      ...problems(`${method}Audio`, "/audio/" + PLACEHOLDER.audio),
    },
  });
  b.addPath("/audio/{id}", {
    parameters: [idParam(`Audio id (\`a_...\`) from POST /synthesize or X-Audio-Id. ${REPLACE_AUDIO}`, PLACEHOLDER.audio)],
    get: audioOp("get"),
    head: audioOp("head"),
  });
  b.addPath("/capabilities", {
    get: {
      operationId: "capabilities",
      tags: ["synthesis"],
      summary: "What a frontend can offer: modes, languages, instruct controls, built-in speakers",
      description: "From what the gateway already knows of its backends (no backend call per request); no key needed.",
      responses: { "200": json("Capabilities", "The capabilities", CAPABILITIES_EXAMPLE), ...problems("capabilities", "/capabilities") },
    },
  });
  b.addPath("/healthz", {
    get: { operationId: "health", tags: ["health"], summary: "The process is alive", responses: { "200": json("Health", "Alive", HEALTH_EXAMPLE) } },
  });
  b.addPath("/readyz", {
    get: {
      operationId: "ready",
      tags: ["health"],
      summary: "At least one backend answers and is a recognised CosyVoice UI; the state of each",
      responses: { "200": json("Ready", "Ready", READY_EXAMPLE), ...problems("ready", "/readyz") },
    },
  });
  b.addPath("/metrics", {
    get: {
      operationId: "metrics",
      tags: ["health"],
      summary: "Prometheus metrics: requests by route template and status, backend jobs and breakers, cache, refusals, process",
      responses: { "200": { description: "Prometheus text format 0.0.4", content: { "text/plain": { schema: { type: "string" } } } } },
    },
  });
  b.addPath("/openapi.json", {
    get: {
      operationId: "openapi",
      tags: ["docs"],
      summary: "This document",
      responses: { "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } } },
    },
  });
  b.addPath("/docs", {
    get: {
      operationId: "docs",
      tags: ["docs"],
      summary: "Swagger UI",
      responses: {
        "200": { description: "HTML (at /docs/)", content: { "text/html": { schema: { type: "string" } } } },
        "301": { description: "Redirect to /docs/", headers: { Location: header("/docs/") } },
      },
    },
  });
  addOpenAIPaths(b, config);
  return b.getSpec();
}
