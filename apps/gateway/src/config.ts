/**
 * Gateway configuration: environment variables (optionally merged over a JSON or YAML file named
 * by `CONFIG_FILE`), validated with zod at start-up. The schema keys are the variable names, so
 * a bad value is reported by the name the operator typed.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { MAX_TEXT_CHARS } from "cosyvoice3-sdk";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const httpUrl = z.url({ protocol: /^https?$/ });

/**
 * One CosyVoice UI URL, or several separated by commas (a backend pool). Each is checked; the
 * value is kept as given (trimmed), so a single URL reads back unchanged.
 */
const backendUrlList = z
  .string()
  .transform((s) => s.split(",").map((u) => u.trim()).filter((u) => u !== ""))
  .refine((urls) => urls.length > 0, "at least one URL is required")
  .refine((urls) => urls.every((u) => httpUrl.safeParse(u).success), "every URL must be http(s)://host[:port][/path]")
  .refine((urls) => new Set(urls).size === urls.length, "a URL is listed twice")
  .transform((urls) => urls.join(","));

const booleanFlag = z
  .union([z.boolean(), z.enum(["true", "false", "1", "0", "yes", "no"])])
  .transform((v) => v === true || v === "true" || v === "1" || v === "yes");

/** Environment variables the gateway reads; each default is the embedded (single box) default. */
export const ConfigEnvSchema = z.object({
  COSYVOICE_URL: backendUrlList.default("http://127.0.0.1:7860"),
  COSYVOICE_MODEL: z.enum(["cosyvoice3", "cosyvoice2", "cosyvoice1"]).default("cosyvoice3"),
  PORT: int(0, 65_535).default(5000),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATA_DIR: z.string().min(1).default(".data/gateway"),
  UPSTREAM_TIMEOUT_MS: int(1_000, 600_000).default(60_000),
  UPSTREAM_MAX_RETRIES: int(0, 5).default(0),
  API_KEYS: z
    .string()
    .default("")
    .transform((s) => s.split(",").map((k) => k.trim()).filter((k) => k !== ""))
    .refine((keys) => keys.every((k) => k.length >= 16), "every key must be at least 16 characters"),
  ADMIN_KEYS: z
    .string()
    .default("")
    .transform((s) => s.split(",").map((k) => k.trim()).filter((k) => k !== ""))
    .refine((keys) => keys.every((k) => k.length >= 16), "every key must be at least 16 characters"),
  AUDIO_REQUIRES_KEY: booleanFlag.default(false),
  PLAYGROUND: booleanFlag.default(true),
  RATE_LIMIT_WINDOW_MS: int(1_000, 86_400_000).default(60_000),
  RATE_LIMIT_SYNTHESIZE: int(1, 1_000_000).default(20),
  RATE_LIMIT_UPLOAD: int(1, 1_000_000).default(10),
  RATE_LIMIT_READ: int(1, 1_000_000).default(300),
  MAX_UPLOAD_BYTES: int(1_024, 100 * 1024 * 1024).default(10 * 1024 * 1024),
  MAX_JSON_BYTES: int(256, 10 * 1024 * 1024).default(32 * 1024),
  MAX_TEXT_CHARS: int(1, MAX_TEXT_CHARS).default(MAX_TEXT_CHARS),
  CONCURRENCY: int(1, 64).default(2),
  QUEUE_SIZE: int(0, 1_000).default(2),
  AUDIO_TTL_MS: int(1_000, 365 * 86_400_000).default(86_400_000),
  AUDIO_MAX_BYTES: int(1_024, Number.MAX_SAFE_INTEGER).default(512 * 1024 * 1024),
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(30_000),
  REQUEST_TIMEOUT_MS: int(1_000, 3_600_000).default(120_000),
  TRUST_PROXY: z
    .string()
    .default("false")
    .transform((v): boolean | number | string =>
      v === "true" ? true : v === "false" ? false : /^\d+$/.test(v) ? Number(v) : v,
    ),
  HEALTH_CHECK_INTERVAL_MS: int(0, 3_600_000).refine((v) => v === 0 || v >= 100, "0 (off) or at least 100").default(10_000),
  STORE: z.enum(["disk", "redis"]).default("disk"),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  REDIS_KEY_PREFIX: z.string().min(1).max(100).regex(/^[\w:.-]+$/, "letters, digits and _ : . - only").default("cosyvoice3-gateway:"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  CORS_ORIGINS: z
    .string()
    .default("")
    .transform((s) => s.split(",").map((o) => o.trim()).filter((o) => o !== ""))
    .refine(
      (list) => list.every((o) => o === "*" || /^https?:\/\/[^/\s]+$/.test(o)),
      "each origin is scheme://host[:port] with no path, or *",
    ),
});

/** Validated configuration, in the shape the code uses. */
export interface GatewayConfig {
  /** The CosyVoice UI, or several separated by commas (see {@link backendUrls}). */
  cosyvoiceUrl: string;
  model: "cosyvoice3" | "cosyvoice2" | "cosyvoice1";
  port: number;
  host: string;
  /** Absolute path of the data directory (voices, audio). */
  dataDir: string;
  /** Deadline of one synthesis, queue wait included. @unit milliseconds */
  upstreamTimeoutMs: number;
  upstreamMaxRetries: number;
  apiKeys: string[];
  /** Keys that also see every owner's voices and clips. */
  adminKeys: string[];
  /** When false, `/audio/:id` is readable without a key: its id is an unguessable capability. */
  audioRequiresKey: boolean;
  /** Serve the playground page at `/`. */
  playground: boolean;
  rateLimit: { windowMs: number; synthesize: number; upload: number; read: number };
  /** @unit bytes */
  maxUploadBytes: number;
  /** @unit bytes */
  maxJsonBytes: number;
  /** @unit characters */
  maxTextChars: number;
  /** Jobs running at once against the backend. */
  concurrency: number;
  /** Jobs allowed to wait for a running slot; beyond that 503 at once. */
  queueSize: number;
  /** @unit milliseconds */
  audioTtlMs: number;
  /** @unit bytes */
  audioMaxBytes: number;
  /** @unit milliseconds */
  shutdownGraceMs: number;
  /** @unit milliseconds */
  requestTimeoutMs: number;
  trustProxy: boolean | number | string;
  /** How often each backend's `/config` is checked; 0 turns the periodic check off. @unit milliseconds */
  healthCheckIntervalMs: number;
  /** Where voices, audio and rate-limit counters live: this process's disk and memory, or Redis. */
  store: "disk" | "redis";
  /** Required when `store` is `redis`. */
  redisUrl?: string;
  /** Prefix of every Redis key, so several deployments can share one Redis. */
  redisKeyPrefix: string;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Browser origins allowed to call the API from JavaScript (`*` for any); empty: same-origin only. */
  corsOrigins: string[];
}

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
const SECRET_VARIABLES = new Set(["API_KEYS", "ADMIN_KEYS", "REDIS_URL"]);

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
  // Values in the file are strings, numbers or booleans; normalise to the env's string form.
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : String(v)]));
}

/**
 * Reads and validates the configuration. Unknown variables are ignored (the environment holds
 * many); every known one that is set is checked.
 * @throws ConfigError naming each bad variable.
 * @example
 * const config = loadConfig(process.env); // { port: 5000, cosyvoiceUrl: "http://127.0.0.1:7860", ... }
 */
export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): GatewayConfig {
  const fromFile = env["CONFIG_FILE"] ? readConfigFile(resolve(cwd, env["CONFIG_FILE"])) : {};
  const input: Record<string, unknown> = { ...fromFile };
  for (const key of Object.keys(ConfigEnvSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== "") input[key] = v;
  }
  const result = ConfigEnvSchema.superRefine((e, ctx) => {
    if (e.STORE === "redis" && e.REDIS_URL === undefined) ctx.addIssue({ code: "custom", path: ["REDIS_URL"], message: "required when STORE=redis" });
  }).safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const name = String(i.path[0] ?? "(config)");
      const got = input[name];
      return `${name}: ${i.message}${got === undefined ? "" : ` (got ${JSON.stringify(SECRET_VARIABLES.has(name) ? "<redacted>" : got)})`}`;
    });
    const names = [...new Set(result.error.issues.map((i) => String(i.path[0] ?? "(config)")))];
    throw new ConfigError(`Invalid configuration:\n  ${lines.join("\n  ")}`, names);
  }
  const e = result.data;
  return {
    cosyvoiceUrl: e.COSYVOICE_URL,
    model: e.COSYVOICE_MODEL,
    port: e.PORT,
    host: e.HOST,
    dataDir: resolve(cwd, e.DATA_DIR),
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
    upstreamMaxRetries: e.UPSTREAM_MAX_RETRIES,
    apiKeys: e.API_KEYS,
    adminKeys: e.ADMIN_KEYS,
    audioRequiresKey: e.AUDIO_REQUIRES_KEY,
    playground: e.PLAYGROUND,
    rateLimit: {
      windowMs: e.RATE_LIMIT_WINDOW_MS,
      synthesize: e.RATE_LIMIT_SYNTHESIZE,
      upload: e.RATE_LIMIT_UPLOAD,
      read: e.RATE_LIMIT_READ,
    },
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    maxJsonBytes: e.MAX_JSON_BYTES,
    maxTextChars: e.MAX_TEXT_CHARS,
    concurrency: e.CONCURRENCY,
    queueSize: e.QUEUE_SIZE,
    audioTtlMs: e.AUDIO_TTL_MS,
    audioMaxBytes: e.AUDIO_MAX_BYTES,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    trustProxy: e.TRUST_PROXY,
    healthCheckIntervalMs: e.HEALTH_CHECK_INTERVAL_MS,
    store: e.STORE,
    ...(e.REDIS_URL !== undefined ? { redisUrl: e.REDIS_URL } : {}),
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    logLevel: e.LOG_LEVEL,
    corsOrigins: e.CORS_ORIGINS,
  };
}

/**
 * The configuration with every default, for tests and the OpenAPI generator.
 * @example const config = { ...defaultConfig(), apiKeys: ["k".repeat(32)] };
 */
export function defaultConfig(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return { ...loadConfig({}), ...overrides };
}

/**
 * The backend URLs of a configuration, in the order given.
 * @example backendUrls({ ...config, cosyvoiceUrl: "http://gpu-1:50000,http://gpu-2:50000" }) // ["http://gpu-1:50000", "http://gpu-2:50000"]
 */
export function backendUrls(config: Pick<GatewayConfig, "cosyvoiceUrl">): string[] {
  return config.cosyvoiceUrl.split(",").map((u) => u.trim()).filter((u) => u !== "");
}
