/**
 * Ocelot's `ocelot.json`, read as it is and translated into our routes format. Every key of
 * Ocelot's vocabulary is listed in one table with what we do with it: honour it, report that we
 * do not (a warning, the file still loads), or refuse the file because ignoring the key would
 * weaken security or send requests somewhere the file did not mean. A key outside the
 * vocabulary (a typo) refuses the file too. Nothing is silently ignored.
 */
import type { BackendKind } from "../../backends/port.ts";
import type { RouteInput } from "./schema.ts";

/** A problem with the file, at a path such as `Routes[0].RateLimitOptions.Period`. */
export interface FileIssue {
  path: string;
  message: string;
}

/** Something the operator should know though the file loads. */
export interface FileNote {
  path: string;
  severity: "warning" | "info";
  message: string;
}

type Handling = { do: "use" } | { do: "warn" | "info" | "refuse"; why: string };
const use: Handling = { do: "use" };
const warn = (why: string): Handling => ({ do: "warn", why });
const info = (why: string): Handling => ({ do: "info", why });
const refuse = (why: string): Handling => ({ do: "refuse", why });

const ROUTE_KEYS: Record<string, Handling> = {
  UpstreamPathTemplate: use,
  DownstreamPathTemplate: use,
  UpstreamHttpMethod: use,
  DownstreamScheme: use,
  DownstreamHostAndPorts: use,
  LoadBalancerOptions: use,
  RateLimitOptions: use,
  QoSOptions: use,
  Timeout: use,
  // Not an Ocelot key: the article's spelling of the timeout, honoured (milliseconds).
  TimeoutMs: use,
  Key: use,
  RouteIsCaseSensitive: use,
  AuthenticationOptions: use,
  Priority: info("routes are matched longest path first; Priority is not needed"),
  RequestIdKey: info("every request carries X-Request-Id, sent upstream and echoed back"),
  Metadata: info("metadata is not used"),
  FileCacheOptions: warn("responses are not cached by the gateway"),
  HttpHandlerOptions: warn("connection handling is the gateway's own (keep-alive, no redirects followed)"),
  DownstreamHttpVersion: warn("backends are spoken to over HTTP/1.1"),
  DownstreamHttpVersionPolicy: warn("backends are spoken to over HTTP/1.1"),
  DangerousAcceptAnyServerCertificateValidator: warn("backend certificates are always verified"),
  AddHeadersToRequest: warn("claims-to-headers is not supported; no header is added"),
  UpstreamHeaderTransform: warn("header transforms are not supported"),
  DownstreamHeaderTransform: warn("header transforms are not supported"),
  AddQueriesToRequest: warn("claims-to-query is not supported"),
  AddClaimsToRequest: refuse("claims are not supported (authentication is by API key)"),
  RouteClaimsRequirement: refuse("claims requirements cannot be enforced (authentication is by API key)"),
  SecurityOptions: refuse("IP allow/block lists are not supported; ignoring them would open the route"),
  UpstreamHost: refuse("host-based routing is not supported; ignoring it would route other hosts' requests here"),
  UpstreamHeaderTemplates: refuse("header-based routing is not supported"),
  ServiceName: refuse("service discovery is not supported; list DownstreamHostAndPorts"),
  ServiceNamespace: refuse("service discovery is not supported; list DownstreamHostAndPorts"),
  DownstreamHttpMethod: refuse("changing the method is not supported"),
  DelegatingHandlers: refuse(".NET delegating handlers cannot run here"),
  ChangeDownstreamPathTemplate: refuse("claims-based path changes are not supported"),
};

const GLOBAL_KEYS: Record<string, Handling> = {
  BaseUrl: info("the public URL is taken from each request (Host, or X-Forwarded-Host from a trusted proxy)"),
  RateLimitOptions: use,
  QoSOptions: use,
  LoadBalancerOptions: use,
  DownstreamScheme: use,
  Timeout: use,
  RequestIdKey: info("every request carries X-Request-Id"),
  HttpHandlerOptions: warn("connection handling is the gateway's own"),
  DownstreamHttpVersion: warn("backends are spoken to over HTTP/1.1"),
  DownstreamHttpVersionPolicy: warn("backends are spoken to over HTTP/1.1"),
  CacheOptions: warn("responses are not cached by the gateway"),
  MetadataOptions: info("metadata is not used"),
  AuthenticationOptions: use,
  SecurityOptions: refuse("IP allow/block lists are not supported; ignoring them would open every route"),
  ServiceDiscoveryProvider: refuse("service discovery is not supported; list DownstreamHostAndPorts"),
};

const TOP_KEYS: Record<string, Handling> = {
  Routes: use,
  ReRoutes: use,
  GlobalConfiguration: use,
  DynamicRoutes: refuse("dynamic routes need service discovery, which is not supported"),
  Aggregates: refuse("aggregates (one request fanned out to several routes) are not supported"),
  $schema: use,
};

const RATE_KEYS: Record<string, Handling> = {
  EnableRateLimiting: use,
  ClientWhitelist: use,
  Period: use,
  PeriodTimespan: use,
  Limit: use,
  // GlobalConfiguration-level keys (Ocelot reads them there; accepted on a route too).
  QuotaExceededMessage: warn("the answer is a 429 problem+json saying when to retry"),
  DisableRateLimitHeaders: warn("the RateLimit and Retry-After headers are always sent"),
  HttpStatusCode: use,
  ClientIdHeader: warn("clients are identified by API key, else address; a header any client can set is not trusted"),
  RateLimitCounterPrefix: info("counters are named after the route"),
};

const QOS_KEYS: Record<string, Handling> = {
  TimeoutValue: use,
  ExceptionsAllowedBeforeBreaking: warn("no circuit breaker: a failing backend is taken out by the health check and gets no new sessions"),
  DurationOfBreak: warn("no circuit breaker: a backend comes back when its health check passes"),
};

const LB_KEYS: Record<string, Handling> = {
  Type: use,
  Key: warn("sessions stick by what Gradio requests carry, not by a cookie"),
  Expiry: warn("sessions stick by what Gradio requests carry, not by a cookie"),
};

const AUTH_KEYS: Record<string, Handling> = {
  AuthenticationProviderKey: use,
  AuthenticationProviderKeys: use,
  AllowedScopes: use,
  AllowAnonymous: use,
};

// `Kind` is ours (Ocelot has none): the kind of server, as in our format's backend `kind`.
const HOST_KEYS: Record<string, Handling> = { Host: use, Port: use, Kind: use };

/** The kinds a host's `Kind` may name, short names included. */
const HOST_KINDS: Record<string, BackendKind> = {
  gradio: "gradio",
  fastapi: "cosyvoice-fastapi",
  "cosyvoice-fastapi": "cosyvoice-fastapi",
  grpc: "cosyvoice-grpc",
  "cosyvoice-grpc": "cosyvoice-grpc",
  openai: "openai",
};

const BALANCERS: Record<string, RouteInput["balancer"]> = {
  RoundRobin: "round-robin",
  LeastConnection: "least-connection",
  NoLoadBalancer: "first",
  CookieStickySessions: "round-robin",
};

/** Ocelot's default when no timeout is given. @unit milliseconds */
const OCELOT_DEFAULT_TIMEOUT_MS = 90_000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** True when the parsed file is in Ocelot's format (it has `Routes` or `ReRoutes`). */
export function isOcelotFile(doc: unknown): boolean {
  return isObj(doc) && ("Routes" in doc || "ReRoutes" in doc || "GlobalConfiguration" in doc);
}

class Reader {
  readonly issues: FileIssue[] = [];
  readonly notes: FileNote[] = [];
  /** Checks an object's keys against a table; returns false when a key refuses the file. */
  keys(obj: Obj, table: Record<string, Handling>, at: string): void {
    for (const key of Object.keys(obj)) {
      const h = table[key];
      const path = at === "" ? key : `${at}.${key}`;
      if (!h) this.issues.push({ path, message: `unknown Ocelot key ${key}` });
      else if (h.do === "refuse") this.issues.push({ path, message: `${key} is not supported: ${h.why}` });
      else if (h.do === "warn") this.notes.push({ path, severity: "warning", message: `${key} is not supported and has no effect: ${h.why}` });
      else if (h.do === "info") this.notes.push({ path, severity: "info", message: `${key}: ${h.why}` });
    }
  }
  object(v: unknown, path: string): Obj | undefined {
    if (v === undefined) return undefined;
    if (!isObj(v)) {
      this.issues.push({ path, message: "must be an object" });
      return undefined;
    }
    return v;
  }
  string(v: unknown, path: string): string | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== "string") {
      this.issues.push({ path, message: "must be a string" });
      return undefined;
    }
    return v;
  }
  number(v: unknown, path: string, min: number, max: number): number | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      this.issues.push({ path, message: `must be a number from ${min} to ${max}` });
      return undefined;
    }
    return v;
  }
  boolean(v: unknown, path: string): boolean | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== "boolean") {
      this.issues.push({ path, message: "must be true or false" });
      return undefined;
    }
    return v;
  }
}

/**
 * Splits an Ocelot path template into the literal prefix and whether it ends in a catch-all
 * placeholder: `/cosyvoice/{everything}` -> `/cosyvoice/`, catch-all `everything`.
 */
function template(t: string): { prefix: string; placeholder: string | undefined } | { error: string } {
  const m = /^(.*?)\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(t);
  const prefix = m ? (m[1] ?? "") : t;
  if (prefix.includes("{") || prefix.includes("}")) return { error: "only one placeholder, at the end (e.g. /cosyvoice/{everything}), is supported" };
  if (!prefix.startsWith("/")) return { error: "must start with /" };
  if (prefix.includes("?")) return { error: "query templates are not supported" };
  return { prefix, placeholder: m?.[2] };
}

/** Ocelot's Period: a number and a unit (`1s`, `500ms`, `5m`, `1h`, `1d`). @returns milliseconds */
export function parsePeriod(p: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(p);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "ms" | "s" | "m" | "h" | "d"];
  return Math.round(Number(m[1]) * unit);
}

interface GlobalDefaults {
  scheme?: string;
  timeoutMs?: number;
  balancer?: RouteInput["balancer"];
  rate: Obj;
  auth?: Obj;
}

/**
 * Translates a parsed `ocelot.json` into routes of our format, with the issues that refuse it
 * (each at its Ocelot path) and the notes to log.
 * @example
 * const { routes, issues, notes } = translateOcelot(JSON.parse(readFileSync("ocelot.json", "utf8")));
 */
export function translateOcelot(doc: unknown): { routes: RouteInput[]; issues: FileIssue[]; notes: FileNote[] } {
  const r = new Reader();
  const routes: RouteInput[] = [];
  if (!isObj(doc)) {
    r.issues.push({ path: "", message: "the file must hold an object" });
    return { routes, issues: r.issues, notes: r.notes };
  }
  r.keys(doc, TOP_KEYS, "");
  const listKey = "Routes" in doc ? "Routes" : "ReRoutes";
  if ("Routes" in doc && "ReRoutes" in doc) r.issues.push({ path: "ReRoutes", message: "give Routes or ReRoutes (its name before Ocelot 16), not both" });
  const list = doc[listKey] ?? [];
  if (!Array.isArray(list)) r.issues.push({ path: listKey, message: "must be an array" });

  const g: GlobalDefaults = { rate: {} };
  const global = r.object(doc["GlobalConfiguration"], "GlobalConfiguration");
  if (global) {
    r.keys(global, GLOBAL_KEYS, "GlobalConfiguration");
    const scheme = r.string(global["DownstreamScheme"], "GlobalConfiguration.DownstreamScheme");
    if (scheme !== undefined) g.scheme = scheme;
    const qos = r.object(global["QoSOptions"], "GlobalConfiguration.QoSOptions");
    if (qos) {
      r.keys(qos, QOS_KEYS, "GlobalConfiguration.QoSOptions");
      const t = r.number(qos["TimeoutValue"], "GlobalConfiguration.QoSOptions.TimeoutValue", 100, 3_600_000);
      if (t !== undefined) g.timeoutMs = t;
    }
    const secs = r.number(global["Timeout"], "GlobalConfiguration.Timeout", 1, 3_600);
    if (secs !== undefined && g.timeoutMs === undefined) g.timeoutMs = secs * 1000;
    const lb = r.object(global["LoadBalancerOptions"], "GlobalConfiguration.LoadBalancerOptions");
    if (lb) {
      r.keys(lb, LB_KEYS, "GlobalConfiguration.LoadBalancerOptions");
      const b = balancer(r, lb["Type"], "GlobalConfiguration.LoadBalancerOptions.Type");
      if (b) g.balancer = b;
    }
    const rate = r.object(global["RateLimitOptions"], "GlobalConfiguration.RateLimitOptions");
    if (rate) {
      r.keys(rate, RATE_KEYS, "GlobalConfiguration.RateLimitOptions");
      g.rate = rate;
    }
    const auth = r.object(global["AuthenticationOptions"], "GlobalConfiguration.AuthenticationOptions");
    if (auth) g.auth = auth;
  }

  const names = new Set<string>();
  (Array.isArray(list) ? list : []).forEach((item, i) => {
    const at = `${listKey}[${i}]`;
    const route = r.object(item, at);
    if (!route) return;
    r.keys(route, ROUTE_KEYS, at);
    const out = translateRoute(r, route, at, g, names);
    if (out) routes.push(out);
  });
  return { routes, issues: r.issues, notes: r.notes };
}

function balancer(r: Reader, v: unknown, path: string): RouteInput["balancer"] | undefined {
  const t = r.string(v, path);
  if (t === undefined) return undefined;
  const b = BALANCERS[t];
  if (!b) r.issues.push({ path, message: `unknown load balancer ${t} (RoundRobin, LeastConnection, NoLoadBalancer, CookieStickySessions)` });
  if (t === "CookieStickySessions") {
    r.notes.push({ path, severity: "info", message: "CookieStickySessions: Gradio sessions stick to one backend by their session hash and uploaded files (no cookie); new sessions go round-robin" });
  }
  return b;
}

function routeName(key: string | undefined, prefix: string, names: Set<string>): string {
  const base =
    key !== undefined && /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(key)
      ? key
      : prefix.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 56) || "root";
  let name = base;
  for (let n = 2; names.has(name); n++) name = `${base}-${n}`;
  names.add(name);
  return name;
}

function translateRoute(r: Reader, route: Obj, at: string, g: GlobalDefaults, names: Set<string>): RouteInput | undefined {
  const before = r.issues.length;
  const up = r.string(route["UpstreamPathTemplate"], `${at}.UpstreamPathTemplate`);
  const down = r.string(route["DownstreamPathTemplate"], `${at}.DownstreamPathTemplate`);
  if (up === undefined) r.issues.push({ path: `${at}.UpstreamPathTemplate`, message: "is required" });
  if (down === undefined) r.issues.push({ path: `${at}.DownstreamPathTemplate`, message: "is required" });
  if (up === undefined || down === undefined) return undefined;
  const u = template(up);
  const d = template(down);
  if ("error" in u) r.issues.push({ path: `${at}.UpstreamPathTemplate`, message: u.error });
  if ("error" in d) r.issues.push({ path: `${at}.DownstreamPathTemplate`, message: d.error });
  if ("error" in u || "error" in d) return undefined;
  if (u.placeholder !== d.placeholder) {
    r.issues.push({ path: `${at}.DownstreamPathTemplate`, message: `must end with the same placeholder as UpstreamPathTemplate ({${u.placeholder ?? ""}})` });
    return undefined;
  }

  const scheme = r.string(route["DownstreamScheme"], `${at}.DownstreamScheme`) ?? g.scheme ?? "http";
  if (scheme !== "http" && scheme !== "https") {
    r.issues.push({ path: `${at}.DownstreamScheme`, message: `${scheme} is not supported (http or https)` });
  }
  const hosts = route["DownstreamHostAndPorts"];
  const backends: (string | { url: string; kind: BackendKind })[] = [];
  if (!Array.isArray(hosts) || hosts.length === 0) {
    r.issues.push({ path: `${at}.DownstreamHostAndPorts`, message: "must list at least one {Host, Port}" });
  } else {
    hosts.forEach((h, j) => {
      const hp = `${at}.DownstreamHostAndPorts[${j}]`;
      const o = r.object(h, hp);
      if (!o) return;
      r.keys(o, HOST_KEYS, hp);
      const host = r.string(o["Host"], `${hp}.Host`);
      const port = r.number(o["Port"], `${hp}.Port`, 1, 65_535);
      if (host === undefined || host === "") return void r.issues.push({ path: `${hp}.Host`, message: "is required" });
      if (!/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/.test(host)) return void r.issues.push({ path: `${hp}.Host`, message: "must be a host name or address" });
      const url = `${scheme}://${host}${port !== undefined && Number.isInteger(port) ? `:${port}` : ""}`;
      const kindName = r.string(o["Kind"], `${hp}.Kind`);
      const kind = kindName === undefined ? undefined : HOST_KINDS[kindName.toLowerCase()];
      if (kindName !== undefined && kind === undefined) r.issues.push({ path: `${hp}.Kind`, message: `must be one of ${Object.keys(HOST_KINDS).join(", ")}` });
      backends.push(kind !== undefined ? { url, kind } : url);
    });
  }

  const methods = route["UpstreamHttpMethod"];
  let methodList: string[] | undefined;
  if (methods !== undefined) {
    if (!Array.isArray(methods) || !methods.every((m) => typeof m === "string")) {
      r.issues.push({ path: `${at}.UpstreamHttpMethod`, message: "must be an array of method names" });
    } else if (methods.length > 0) {
      methodList = [...new Set(methods.map((m) => m.toUpperCase()))];
      // Ocelot routes GET only for a GET route; HEAD is GET without a body, so it comes along.
      if (methodList.includes("GET") && !methodList.includes("HEAD")) methodList.push("HEAD");
    }
  }

  // Timeouts: QoSOptions.TimeoutValue (ms) wins, as in Ocelot; then the route's Timeout (s);
  // then the article's TimeoutMs; then the global ones; then Ocelot's default of 90 s.
  let timeoutMs: number | undefined;
  const qos = r.object(route["QoSOptions"], `${at}.QoSOptions`);
  if (qos) {
    r.keys(qos, QOS_KEYS, `${at}.QoSOptions`);
    timeoutMs = r.number(qos["TimeoutValue"], `${at}.QoSOptions.TimeoutValue`, 100, 3_600_000);
  }
  const secs = r.number(route["Timeout"], `${at}.Timeout`, 1, 3_600);
  timeoutMs ??= secs !== undefined ? secs * 1000 : undefined;
  timeoutMs ??= r.number(route["TimeoutMs"], `${at}.TimeoutMs`, 100, 3_600_000);
  timeoutMs ??= g.timeoutMs ?? OCELOT_DEFAULT_TIMEOUT_MS;

  const lb = r.object(route["LoadBalancerOptions"], `${at}.LoadBalancerOptions`);
  // Ocelot's default is NoLoadBalancer: the first host, always.
  let bal = g.balancer ?? "first";
  if (lb) {
    r.keys(lb, LB_KEYS, `${at}.LoadBalancerOptions`);
    bal = balancer(r, lb["Type"], `${at}.LoadBalancerOptions.Type`) ?? bal;
  }

  const rateLimit = rateLimitOf(r, route["RateLimitOptions"], `${at}.RateLimitOptions`, g.rate);

  const authObj = r.object(route["AuthenticationOptions"], `${at}.AuthenticationOptions`) ?? g.auth;
  let auth = true;
  if (authObj) {
    r.keys(authObj, AUTH_KEYS, `${at}.AuthenticationOptions`);
    const scopes = authObj["AllowedScopes"];
    if (Array.isArray(scopes) && scopes.length > 0) {
      r.issues.push({ path: `${at}.AuthenticationOptions.AllowedScopes`, message: "scopes cannot be enforced (authentication is by API key)" });
    }
    if (authObj["AllowAnonymous"] === true) auth = false;
    else {
      r.notes.push({ path: `${at}.AuthenticationOptions`, severity: "info", message: "authentication is by the gateway's API_KEYS (Bearer, or the browser's sign-in cookie); it is open when API_KEYS is empty" });
    }
  }

  const caseSensitive = r.boolean(route["RouteIsCaseSensitive"], `${at}.RouteIsCaseSensitive`) ?? false;
  const key = r.string(route["Key"], `${at}.Key`);
  if (r.issues.length > before) return undefined;
  const name = routeName(key, u.prefix, names);
  const exact = u.placeholder === undefined;
  return {
    name,
    path: u.prefix,
    match: exact ? "exact" : "prefix",
    upstreamPath: d.prefix,
    caseSensitive,
    kind: "auto",
    ...(methodList ? { methods: methodList as NonNullable<RouteInput["methods"]> } : {}),
    backends,
    balancer: bal,
    ...(rateLimit ? { rateLimit } : {}),
    timeoutMs,
    auth,
  };
}

function rateLimitOf(r: Reader, v: unknown, at: string, global: Obj): RouteInput["rateLimit"] {
  const o = r.object(v, at);
  if (!o) return undefined;
  r.keys(o, RATE_KEYS, at);
  // Ocelot applies a route's limit only with EnableRateLimiting: true.
  if (r.boolean(o["EnableRateLimiting"], `${at}.EnableRateLimiting`) !== true) return undefined;
  const limit = r.number(o["Limit"], `${at}.Limit`, 1, 1_000_000);
  if (limit === undefined) {
    r.issues.push({ path: `${at}.Limit`, message: "is required when EnableRateLimiting is true" });
    return undefined;
  }
  const period = r.string(o["Period"], `${at}.Period`);
  const windowMs = period === undefined ? 1_000 : parsePeriod(period);
  if (windowMs === undefined || windowMs < 100 || windowMs > 86_400_000) {
    r.issues.push({ path: `${at}.Period`, message: "must be a number and a unit from 100ms to 1d (e.g. 1s, 5m, 1h)" });
    return undefined;
  }
  const span = r.number(o["PeriodTimespan"], `${at}.PeriodTimespan`, 0, 86_400);
  const list = o["ClientWhitelist"];
  let whitelist: string[] = [];
  if (list !== undefined) {
    if (!Array.isArray(list) || !list.every((c) => typeof c === "string")) r.issues.push({ path: `${at}.ClientWhitelist`, message: "must be an array of strings" });
    else whitelist = list;
  }
  for (const c of whitelist) {
    if (!/^key:|^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(c)) {
      r.notes.push({
        path: `${at}.ClientWhitelist`,
        severity: "warning",
        message: `"${c}" matches no client: entries are IP addresses, CIDR ranges or key fingerprints (key:...), not a ClientId header`,
      });
    }
  }
  const status = o["HttpStatusCode"] ?? global["HttpStatusCode"];
  if (status !== undefined && status !== 429) {
    r.notes.push({ path: `${at}.HttpStatusCode`, severity: "warning", message: "a spent budget is always answered 429 (Too Many Requests) with Retry-After" });
  }
  return {
    limit: Math.floor(limit),
    windowMs,
    ...(span !== undefined && span >= 1 ? { retryAfterSeconds: Math.ceil(span) } : {}),
    whitelist,
  };
}
