/**
 * The routes file in our own format: zod schemas (the one source of truth), the types they infer,
 * and the published JSON Schema generated from them (`routes.schema.json` at the repository root,
 * so editors complete the file). Ocelot's format is translated into this one (see `ocelot.ts`).
 */
import { z } from "zod";
import { BACKEND_KINDS } from "../../backends/port.ts";

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** A path prefix the gateway answers under: starts with `/`, no query, no `..`, no `{`. */
const PathPrefix = z
  .string()
  .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, "a path such as /cosyvoice/ (no query, no placeholders)")
  .refine((p) => !p.split("/").includes(".."), "must not contain ..")
  .meta({ description: "Path prefix, e.g. `/cosyvoice/`; a trailing slash is added when missing." });

const BackendUrl = z
  .url({ protocol: /^https?$/ })
  .refine((u) => !/[?#]/.test(u), "no query or fragment")
  .meta({ description: "Base URL of one backend, e.g. `http://gpu-1:7860`." });

/** The kind of server a backend is, when the route's REST use should not probe for it. */
export const BackendKindSchema = z
  .enum(BACKEND_KINDS)
  .meta({ description: "The kind of server (for the REST API's pool): a Gradio UI, CosyVoice's FastAPI or gRPC server, or an OpenAI-compatible speech server; absent: probed." });

/** One backend of a route: its URL, or the URL and a name for logs (and its kind). */
export const BackendSchema = z.union([
  BackendUrl,
  z.strictObject({
    url: BackendUrl,
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional().meta({ description: "Shown in logs; defaults to `<route>-<n>`." }),
    kind: BackendKindSchema.optional(),
  }),
]);

/** A request budget per client: `limit` requests that start work per `windowMs`. */
export const RateLimitSchema = z.strictObject({
  limit: z.int().min(1).max(1_000_000).meta({ description: "Requests that start work, per window and client." }),
  windowMs: z.int().min(100).max(86_400_000).default(1_000).meta({ description: "Fixed window. @unit milliseconds" }),
  retryAfterSeconds: z
    .int()
    .min(1)
    .max(86_400)
    .optional()
    .meta({ description: "Retry-After sent when the budget is spent; default: the time left in the window. (Ocelot's PeriodTimespan.)" }),
  whitelist: z
    .array(z.string().min(1))
    .default([])
    .meta({ description: "Clients never limited: IP addresses, CIDR ranges (`10.0.0.0/8`) or key fingerprints (`key:...`)." }),
});

const Balancer = z
  .enum(["least-outstanding", "round-robin", "least-connection", "first"])
  .meta({
    description:
      "How a new session (or a request with no session) picks a backend: fewest outstanding jobs (ours), in turn (Ocelot RoundRobin), fewest open requests (LeastConnection), the first healthy one (NoLoadBalancer).",
  });

/** One route: requests under `path` go to one of `backends`, the rest of the path appended. */
export const RouteSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "letters, digits, _ and - (at most 64)")
    .optional()
    .meta({ description: "Names the route in logs and rate-limit counters; default: from the path (`/cosyvoice/` -> `cosyvoice`)." }),
  path: PathPrefix,
  match: z.enum(["prefix", "exact"]).default("prefix").meta({ description: "`prefix`: the path and everything under it; `exact`: only the path itself." }),
  caseSensitive: z.boolean().default(true).meta({ description: "Whether `/CosyVoice/` is another path than `/cosyvoice/` (Ocelot's RouteIsCaseSensitive; its default is false)." }),
  upstreamPath: PathPrefix.default("/").meta({ description: "What replaces `path` upstream. @default /" }),
  kind: z
    .enum(["auto", "gradio", "http"])
    .default("auto")
    .meta({
      description:
        "`gradio`: a Gradio app (sessions stick to one backend, its public URL carries the prefix, only job-starting requests count against the rate limit); `http`: plain passthrough; `auto`: found out from the backend's /config.",
    }),
  methods: z.array(z.enum(METHODS)).min(1).optional().meta({ description: "Allowed methods; default: all." }),
  backends: z.array(BackendSchema).min(1),
  balancer: Balancer.default("least-outstanding"),
  rateLimit: RateLimitSchema.optional().meta({ description: "Absent: no limit." }),
  timeoutMs: z
    .int()
    .min(100)
    .max(3_600_000)
    .default(30_000)
    .meta({ description: "Bounds the wait for the backend's response headers and plain bodies; never a live event stream. @unit milliseconds" }),
  auth: z.boolean().default(true).meta({ description: "Require an API key (Bearer, or the browser's sign-in cookie) when API_KEYS is set." }),
  synthesis: z
    .boolean()
    .default(false)
    .meta({ description: "The REST API (/synthesize, /voices) uses this route's backends: one pool and one set of per-backend job caps for both." }),
  maxUploadBytes: z.int().min(1_024).max(1024 * 1024 * 1024).optional().meta({ description: "Cap of one request body; default: MAX_UPLOAD_BYTES. @unit bytes" }),
});

/** The whole file. */
export const RoutesFileSchema = z.strictObject({
  $schema: z.string().optional(),
  routes: z.array(RouteSchema),
});

export type RoutesFileInput = z.input<typeof RoutesFileSchema>;
export type RouteInput = z.input<typeof RouteSchema>;
export type RouteFileEntry = z.output<typeof RouteSchema>;
export type RateLimitSpec = z.output<typeof RateLimitSchema>;
export type BalancerName = z.output<typeof Balancer>;

/**
 * The JSON Schema of the routes file (what editors read), generated from {@link RoutesFileSchema}.
 * @example writeFileSync("routes.schema.json", JSON.stringify(routesJsonSchema(), null, 2) + "\n");
 */
export function routesJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(RoutesFileSchema, { io: "input", target: "draft-2020-12" }) as Record<string, unknown>;
  return {
    $id: "urn:cosyvoice3-gateway:routes-file",
    title: "cosyvoice3-gateway routes file",
    description: "ROUTES_FILE in our format (JSON or YAML). An Ocelot ocelot.json is accepted too; see the gateway README.",
    ...schema,
  };
}

/**
 * {@link routesJsonSchema} as the committed file's text (two-space JSON, final newline).
 * @example expect(readFileSync("routes.schema.json", "utf8")).toBe(routesJsonSchemaText());
 */
export function routesJsonSchemaText(): string {
  return JSON.stringify(routesJsonSchema(), null, 2) + "\n";
}
