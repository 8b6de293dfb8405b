/**
 * Gateway configuration: environment variables (optionally merged over a JSON or YAML file named
 * by `CONFIG_FILE`), validated with zod at start-up. One schema says each field's shape, its
 * default and the variable that sets it; the type is inferred from it, and a bad value is
 * reported by the name the operator typed.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { MAX_TEXT_CHARS } from "cosyvoice3-sdk";
import { parseYaml } from "./yaml.ts";
import { z } from "zod";
import { addressProblem } from "../backends/address.ts";

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const httpUrl = z.url({ protocol: /^https?$/ });

/**
 * One CosyVoice UI URL, or several separated by commas (a backend pool): a list of URLs, each
 * checked and trimmed, in the order given.
 */
const backendUrlList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(",")).map((u) => u.trim()).filter((u) => u !== ""))
  .refine((urls) => urls.length > 0, "at least one URL is required")
  .refine((urls) => urls.every((u) => addressProblem(u) === undefined), "every URL must be http(s)://host[:port][/path], a kind-named one (gradio+http://, fastapi+http://, openai+http://.../v1) or grpc://host:port")
  .refine((urls) => new Set(urls).size === urls.length, "a URL is listed twice");

/** A comma-separated list (or a YAML list), trimmed, empty items dropped. */
const list = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(",")).map((k) => k.trim()).filter((k) => k !== ""));

const keyList = list.refine((keys) => keys.every((k) => k.length >= 16), "every key must be at least 16 characters");

/** `name=voice` pairs, comma-separated (a YAML mapping in the config file becomes the same). */
const aliasList = list
  .refine(
    (pairs) => pairs.every((p) => p.includes("=") && /^[^=\s]+$/.test(p.slice(0, p.indexOf("=")).trim()) && p.slice(p.indexOf("=") + 1).trim() !== ""),
    "each entry is name=voice (e.g. alloy=builtin:中文女,nova=v_...)",
  )
  .transform((pairs) => Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf("=")).trim(), p.slice(p.indexOf("=") + 1).trim()])) as Record<string, string>);

const booleanFlag = z
  .union([z.boolean(), z.enum(["true", "false", "1", "0", "yes", "no"])])
  .transform((v) => v === true || v === "true" || v === "1" || v === "yes");

/**
 * `CONSENT_PHRASE`: a JSON object of phrases by language tag, or one phrase for every language
 * (stored under `*`).
 */
const consentPhrases = z.union([z.string(), z.record(z.string(), z.string())]).transform((v, ctx): Record<string, string> => {
  if (typeof v !== "string") return v;
  const text = v.trim();
  if (text === "") return {};
  if (!text.startsWith("{")) return { "*": text };
  try {
    const parsed = z.record(z.string().min(1), z.string().trim().min(1)).parse(JSON.parse(text));
    return parsed;
  } catch {
    ctx.addIssue({ code: "custom", message: "a phrase, or a JSON object of phrases by language tag ({\"en\": \"...\"})" });
    return z.NEVER;
  }
});

/** Names a field by the environment variable that sets it (the schema is the one source of both). */
const fromEnv = <T extends z.ZodType>(variable: string, schema: T, description: string) => schema.meta({ env: variable, description });

/**
 * The configuration: each field in the shape the code uses, with the environment variable that
 * sets it and its embedded (single box) default. {@link GatewayConfig} is its output type.
 */
export const GatewayConfigSchema = z.object({
  cosyvoiceUrls: fromEnv("COSYVOICE_URL", backendUrlList.default(["http://127.0.0.1:7860"]), "The CosyVoice backends, separated by commas (a pool): a Gradio UI, the official FastAPI or gRPC server, or an OpenAI-compatible speech server; the kind is probed, or named by the scheme (gradio+http://, fastapi+http://, grpc://host:port, openai+http://host/v1)"),
  model: fromEnv("COSYVOICE_MODEL", z.enum(["cosyvoice3", "cosyvoice2", "cosyvoice1"]).default("cosyvoice3"), "The model family loaded in the UI"),
  port: fromEnv("PORT", int(0, 65_535).default(5000), "Port to listen on"),
  host: fromEnv("HOST", z.string().min(1).default("0.0.0.0"), "Address to listen on"),
  dataDir: fromEnv("DATA_DIR", z.string().min(1).default(".data/gateway"), "Data directory (voices, audio); absolute once loaded"),
  upstreamTimeoutMs: fromEnv("UPSTREAM_TIMEOUT_MS", int(1_000, 600_000).default(60_000), "Deadline of one synthesis, voice lookup and queue wait included (ms)"),
  upstreamMaxRetries: fromEnv("UPSTREAM_MAX_RETRIES", int(0, 5).default(0), "SDK retries of a job the UI did not accept"),
  apiKeys: fromEnv("API_KEYS", keyList.default([]), "Accepted API keys; each key owns the voices and clips it makes"),
  adminKeys: fromEnv("ADMIN_KEYS", keyList.default([]), "API keys that also see, use and delete every owner's voices and clips"),
  audioRequiresKey: fromEnv("AUDIO_REQUIRES_KEY", booleanFlag.default(false), "When false, /audio/:id is readable without a key (its id is an unguessable capability)"),
  playground: fromEnv("PLAYGROUND", booleanFlag.default(true), "Serve the playground page at / (its files under /playground/); false leaves it out"),
  rateLimit: z.object({
    windowMs: fromEnv("RATE_LIMIT_WINDOW_MS", int(1_000, 86_400_000).default(60_000), "Rate-limit window (ms)"),
    synthesize: fromEnv("RATE_LIMIT_SYNTHESIZE", int(1, 1_000_000).default(20), "Syntheses per client per window"),
    upload: fromEnv("RATE_LIMIT_UPLOAD", int(1, 1_000_000).default(10), "Voice uploads and deletes per client per window"),
    read: fromEnv("RATE_LIMIT_READ", int(1, 1_000_000).default(300), "Reads per client per window"),
  }),
  maxUploadBytes: fromEnv("MAX_UPLOAD_BYTES", int(1_024, 100 * 1024 * 1024).default(10 * 1024 * 1024), "Largest prompt audio upload (bytes)"),
  maxJsonBytes: fromEnv("MAX_JSON_BYTES", int(256, 10 * 1024 * 1024).default(32 * 1024), "Largest JSON body (bytes)"),
  maxTextChars: fromEnv("MAX_TEXT_CHARS", int(1, MAX_TEXT_CHARS).default(MAX_TEXT_CHARS), "Longest text to synthesize (characters)"),
  concurrency: fromEnv("CONCURRENCY", int(1, 64).default(2), "Jobs running at once per backend"),
  queueSize: fromEnv("QUEUE_SIZE", int(0, 1_000).default(2), "Jobs waiting per backend; beyond that 503 at once"),
  audioTtlMs: fromEnv("AUDIO_TTL_MS", int(1_000, 365 * 86_400_000).default(86_400_000), "How long a clip is kept (ms)"),
  audioMaxBytes: fromEnv("AUDIO_MAX_BYTES", int(1_024, Number.MAX_SAFE_INTEGER).default(512 * 1024 * 1024), "Total size of kept clips (bytes)"),
  shutdownGraceMs: fromEnv("SHUTDOWN_GRACE_MS", int(0, 600_000).default(30_000), "How long running jobs may finish on SIGTERM (ms)"),
  requestTimeoutMs: fromEnv("REQUEST_TIMEOUT_MS", int(1_000, 3_600_000).default(120_000), "Time for a request's headers and body to arrive (ms)"),
  trustProxy: fromEnv(
    "TRUST_PROXY",
    z
      .string()
      .default("false")
      .transform((v): boolean | number | string => (v === "true" ? true : v === "false" ? false : /^\d+$/.test(v) ? Number(v) : v)),
    "Express's trust proxy setting: true, false, a hop count or a list of addresses",
  ),
  healthCheckIntervalMs: fromEnv(
    "HEALTH_CHECK_INTERVAL_MS",
    int(0, 3_600_000).refine((v) => v === 0 || v >= 100, "0 (off) or at least 100").default(10_000),
    "How often each backend is checked; 0 turns the periodic check off (ms)",
  ),
  store: fromEnv("STORE", z.enum(["disk", "redis"]).default("disk"), "Where voices, audio and rate-limit counters live"),
  redisUrl: fromEnv("REDIS_URL", z.url({ protocol: /^rediss?$/ }).optional(), "Required when STORE=redis"),
  redisKeyPrefix: fromEnv(
    "REDIS_KEY_PREFIX",
    z.string().min(1).max(100).regex(/^[\w:.-]+$/, "letters, digits and _ : . - only").default("cosyvoice3-gateway:"),
    "Prefix of every Redis key, so several deployments can share one Redis",
  ),
  logLevel: fromEnv("LOG_LEVEL", z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"), "pino log level"),
  logFormat: fromEnv("LOG_FORMAT", z.enum(["auto", "json", "pretty"]).default("auto"), "auto: one line per request on a terminal, JSON lines otherwise; json or pretty to choose"),
  routesFile: fromEnv(
    "ROUTES_FILE",
    z.string().min(1).optional(),
    "A routes file (ours, or Ocelot's ocelot.json as it is), JSON or YAML, hot-reloaded; absolute once loaded",
  ),
  synthesisRoute: fromEnv(
    "SYNTHESIS_ROUTE",
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "a route name from ROUTES_FILE").optional(),
    "The route of ROUTES_FILE whose backends the REST API uses (else the route with synthesis: true, else COSYVOICE_URL)",
  ),
  corsOrigins: fromEnv(
    "CORS_ORIGINS",
    list.refine((l) => l.every((o) => o === "*" || /^https?:\/\/[^/\s]+$/.test(o)), "each origin is scheme://host[:port] with no path, or *").default([]),
    "Browser origins allowed to call the API from JavaScript (* for any); empty: same-origin only",
  ),
  voiceAliases: fromEnv(
    "VOICE_ALIASES",
    aliasList.default({}),
    "Names OpenAI clients send (alloy, nova...) and the voice each stands for (a voice id or name, resolved among the caller's voices)",
  ),
  maxEncoders: fromEnv("MAX_ENCODERS", int(1, 1_024).default(16), "ffmpeg processes (audio conversions) at once; past it 503 before any synthesis starts"),
  ffmpegPath: fromEnv("FFMPEG_PATH", z.string().min(1).default("ffmpeg"), "The ffmpeg binary of the encoders"),
  /** JWTs accepted beside API keys: on when `secret` or `jwksUrl` is set. */
  jwt: z.object({
    secret: fromEnv("JWT_SECRET", z.string().min(32, "at least 32 characters").optional(), "HS256 secret of accepted JWTs"),
    jwksUrl: fromEnv("JWKS_URL", httpUrl.optional(), "The issuer's JSON Web Key Set (RS256, ES256 tokens)"),
    issuer: fromEnv("JWT_ISSUER", z.string().min(1).optional(), "Required iss of every token"),
    audience: fromEnv("JWT_AUDIENCE", z.string().min(1).optional(), "Required aud of every token"),
    clockSkewSec: fromEnv("JWT_CLOCK_SKEW_S", int(0, 600).default(30), "Tolerated clock difference for exp and nbf (s)"),
  }),
  breaker: z.object({
    failures: fromEnv("BREAKER_FAILURES", int(0, 1_000).default(5), "Consecutive box faults that open a backend's breaker; 0: no breaker"),
    openMs: fromEnv("BREAKER_OPEN_MS", int(100, 3_600_000).default(10_000), "How long an open breaker sends a backend nothing before one probe (ms)"),
  }),
  cache: z.object({
    maxBytes: fromEnv("CACHE_MAX_BYTES", int(0, Number.MAX_SAFE_INTEGER).default(256 * 1024 * 1024), "Size of the synthesis cache; 0 turns it off (bytes)"),
    ttlMs: fromEnv("CACHE_TTL_MS", int(1_000, 365 * 86_400_000).default(86_400_000), "How long a cached clip is kept (ms)"),
  }),
  audioWriteBehindBytes: fromEnv(
    "AUDIO_WRITE_BEHIND_BYTES",
    int(0, 1024 * 1024 * 1024).default(16 * 1024 * 1024),
    "With STORE=disk: clips answered before their write lands, served from memory until it does, at most (bytes); 0: every answer waits for its write",
  ),
  voiceConsent: fromEnv(
    "VOICE_CONSENT",
    z.enum(["required", "optional"]).optional(),
    "Whether creating a voice needs a consent id of the caller's (POST /v1/audio/voice_consents): unset, /v1 requires it and REST /voices does not; set, both doors follow it",
  ),
  defaultVoice: fromEnv(
    "DEFAULT_VOICE",
    z.string().trim().min(1).max(200).optional(),
    "The voice (id or name) OpenAI's built-in voice names (alloy, ash, ... cedar) stand for when no alias or voice of that name exists; unset, they are a 400 listing the usable voices",
  ),
  asr: z.object({
    url: fromEnv("ASR_URL", httpUrl.optional(), "An OpenAI-compatible transcription server (POST {ASR_URL}/audio/transcriptions): voices saved without a transcript get one, consent recordings are checked"),
    model: fromEnv("ASR_MODEL", z.string().min(1).max(200).default("whisper-1"), "The `model` sent to the ASR server"),
    timeoutMs: fromEnv("ASR_TIMEOUT_MS", int(1_000, 600_000).default(30_000), "Deadline of one transcription (ms)"),
  }),
  consentPhrases: fromEnv(
    "CONSENT_PHRASE",
    consentPhrases.default({}),
    "The sentence a consent recording must contain (needs ASR_URL): one phrase for every language, or a JSON object by BCP 47 tag ({\"en\": \"I agree...\", \"zh\": \"...\"}; `*` for the others)",
  ),
  /** Narration jobs (`/jobs`): long texts split into segments, queued, durable. */
  jobs: z.object({
    maxChars: fromEnv("MAX_JOB_CHARS", int(1, 5_000_000).default(200_000), "Longest text of one narration job (characters)"),
    segmentChars: fromEnv("JOB_SEGMENT_CHARS", int(40, MAX_TEXT_CHARS).default(300), "Longest segment (one synthesis) a job's text is split into, at sentence ends (characters)"),
    parallelSegments: fromEnv(
      "JOB_PARALLEL_SEGMENTS",
      int(0, 256).default(0),
      "Segments of one job synthesized at once; 0: one per background slot of every backend (concurrency - 1 each, at least 1)",
    ),
    concurrency: fromEnv("JOB_CONCURRENCY", int(1, 64).default(1), "Jobs one gateway instance runs at once (each over its own segments)"),
    ttlMs: fromEnv("JOB_TTL_MS", int(60_000, 365 * 86_400_000).default(86_400_000), "How long a finished job (and its audio and captions) is kept (ms)"),
    lockMs: fromEnv("JOB_LOCK_MS", int(1_000, 600_000).default(30_000), "With STORE=redis: a job whose instance stopped renewing its lock this long is picked up by another instance (ms)"),
    segmentQuota: fromEnv("JOB_SEGMENT_QUOTA", int(1, 100_000_000).default(20_000), "Segments one owner may submit in jobs per JOB_QUOTA_WINDOW_MS"),
    quotaWindowMs: fromEnv("JOB_QUOTA_WINDOW_MS", int(1_000, 365 * 86_400_000).default(86_400_000), "The window of JOB_SEGMENT_QUOTA (ms)"),
    startsPerMinute: fromEnv("JOB_STARTS_PER_MINUTE", int(0, 1_000_000).default(0), "With STORE=redis: jobs started per minute over every instance (BullMQ's rate limiter); 0: no limit"),
    segmentAttempts: fromEnv("JOB_SEGMENT_ATTEMPTS", int(1, 20).default(4), "Attempts of one segment whose failure is not the input's (busy, unreachable, deadline) before the job fails"),
  }),
  webhooks: z.object({
    secret: fromEnv(
      "WEBHOOK_SECRET",
      z.string().min(16, "at least 16 characters (a whsec_ base64 secret, or any string of 16+)").optional(),
      "Signs job webhooks (Standard Webhooks, HMAC-SHA256); without it callbackUrl is refused",
    ),
    allowPrivate: fromEnv("WEBHOOK_ALLOW_PRIVATE", booleanFlag.default(false), "Allow callbackUrl on loopback and private addresses (off: no SSRF into the gateway's network)"),
    maxAttempts: fromEnv("WEBHOOK_MAX_ATTEMPTS", int(1, 20).default(6), "Deliveries of one webhook before it is given up"),
    firstRetryMs: fromEnv("WEBHOOK_FIRST_RETRY_MS", int(10, 3_600_000).default(1_000), "Wait before the first retry; each next one doubles, with jitter (ms)"),
    timeoutMs: fromEnv("WEBHOOK_TIMEOUT_MS", int(100, 120_000).default(10_000), "Deadline of one delivery (ms)"),
  }),
  slotLeaseMs: fromEnv("SLOT_LEASE_MS", int(500, 600_000).default(5_000), "With STORE=redis: how long a job slot of an instance that stopped renewing it stays taken (ms)"),
});

/** Validated configuration, in the shape the code uses (inferred from {@link GatewayConfigSchema}). */
export type GatewayConfig = z.output<typeof GatewayConfigSchema>;

/** Each field's path in the schema and the variable that sets it, read from the schema itself. */
// The shape is taken as `Readonly<Record<string, unknown>>`: checking the config schema's shape
// against `Record<string, z.ZodType>` made tsc compare zod's generics field by field (about 4 s of
// `npm run typecheck`); every value of a zod object's shape is a schema.
function envFields(shape: Readonly<Record<string, unknown>>, path: string[] = []): { path: string[]; variable: string }[] {
  return Object.entries(shape).flatMap(([key, value]) => {
    const schema = value as z.ZodType;
    const variable = (schema.meta() as { env?: string } | undefined)?.env;
    if (variable !== undefined) return [{ path: [...path, key], variable }];
    return schema instanceof z.ZodObject ? envFields(schema.shape, [...path, key]) : [];
  });
}

const ENV_FIELDS = envFields(GatewayConfigSchema.shape);

/** A configuration value was rejected; the message names each variable and what is wrong. */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly variables: string[];
  constructor(message: string, variables: string[]) {
    super(message);
    this.variables = variables;
  }
}

/** Values never echoed in an error message (a Redis URL may carry a password). */
const SECRET_VARIABLES = new Set(["API_KEYS", "ADMIN_KEYS", "REDIS_URL", "JWT_SECRET", "WEBHOOK_SECRET"]);

function readConfigFile(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(`CONFIG_FILE: cannot read ${file}: ${(err as Error).message}`, ["CONFIG_FILE"]);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`CONFIG_FILE: ${file} must hold a mapping of variable names to values`, ["CONFIG_FILE"]);
  }
  // Values in the file are strings, numbers, booleans, lists or (VOICE_ALIASES) a mapping;
  // normalise to the env's string form.
  const flat = (v: unknown): string =>
    Array.isArray(v)
      ? v.join(",")
      : typeof v === "object" && v !== null
        ? Object.entries(v).map(([name, target]) => `${name}=${String(target)}`).join(",")
        : String(v);
  // CONSENT_PHRASE's phrases may hold commas: its mapping stays JSON.
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, k === "CONSENT_PHRASE" && typeof v === "object" && v !== null ? JSON.stringify(v) : flat(v)]));
}

/**
 * Reads and validates the configuration. Unknown variables are ignored (the environment holds
 * many); every known one that is set is checked.
 * @throws ConfigError naming each bad variable.
 * @example
 * const config = loadConfig(process.env); // { port: 5000, cosyvoiceUrls: ["http://127.0.0.1:7860"], ... }
 */
export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): GatewayConfig {
  const fromFile = env["CONFIG_FILE"] ? readConfigFile(resolve(cwd, env["CONFIG_FILE"])) : {};
  const given: Record<string, unknown> = { ...fromFile };
  for (const { variable } of ENV_FIELDS) {
    const v = env[variable];
    if (v !== undefined && v !== "") given[variable] = v;
  }
  // The schema's shape, filled from the variables that are set.
  const input: Record<string, unknown> = {};
  const variableAt = new Map<string, string>();
  for (const { path, variable } of ENV_FIELDS) {
    variableAt.set(path.join("."), variable);
    const parent = path.slice(0, -1).reduce<Record<string, unknown>>((o, k) => (o[k] ??= {}) as Record<string, unknown>, input);
    if (given[variable] !== undefined) parent[path.at(-1) as string] = given[variable];
  }
  const result = GatewayConfigSchema.superRefine((c, ctx) => {
    if (c.store === "redis" && c.redisUrl === undefined) ctx.addIssue({ code: "custom", path: ["redisUrl"], message: "required when STORE=redis" });
    if (Object.keys(c.consentPhrases).length > 0 && c.asr.url === undefined) ctx.addIssue({ code: "custom", path: ["consentPhrases"], message: "a consent phrase can only be checked with an ASR server: set ASR_URL too" });
    if (c.jwt.secret !== undefined && c.jwt.jwksUrl !== undefined) ctx.addIssue({ code: "custom", path: ["jwt", "jwksUrl"], message: "set JWT_SECRET or JWKS_URL, not both" });
  }).safeParse(input);
  if (!result.success) {
    const nameOf = (path: PropertyKey[]) => variableAt.get(path.map(String).join(".")) ?? variableAt.get(String(path[0])) ?? "(config)";
    const lines = result.error.issues.map((i) => {
      const name = nameOf(i.path);
      const got = given[name];
      return `${name}: ${i.message}${got === undefined ? "" : ` (got ${JSON.stringify(SECRET_VARIABLES.has(name) ? "<redacted>" : got)})`}`;
    });
    const names = [...new Set(result.error.issues.map((i) => nameOf(i.path)))];
    throw new ConfigError(`Invalid configuration:\n  ${lines.join("\n  ")}`, names);
  }
  const routesFile = result.data.routesFile;
  return { ...result.data, dataDir: resolve(cwd, result.data.dataDir), ...(routesFile !== undefined ? { routesFile: resolve(cwd, routesFile) } : {}) };
}

/**
 * The configuration with every default, for tests and the OpenAPI generator.
 * @example const config = { ...defaultConfig(), apiKeys: ["k".repeat(32)] };
 */
export function defaultConfig(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return { ...loadConfig({}), ...overrides };
}
