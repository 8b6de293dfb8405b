/**
 * Reading a routes file: JSON or YAML text -> our format or Ocelot's -> validated, compiled
 * routes ready for the passthrough. Everything is checked before anything is returned, so a
 * caller either gets a whole configuration or a {@link RoutesFileError} listing each bad field
 * by its path in the file.
 */
import { createHash } from "node:crypto";
import { parseYaml } from "../yaml.ts";
import type { z } from "zod";
import type { BackendKind } from "../../backends/port.ts";
import { isOcelotFile, translateOcelot, type FileIssue, type FileNote } from "./ocelot.ts";
import { RouteSchema, RoutesFileSchema, type BalancerName, type RateLimitSpec, type RouteFileEntry, type RouteInput } from "./schema.ts";

export type { FileIssue, FileNote } from "./ocelot.ts";

/** One backend of a compiled route. */
export interface RouteBackend {
  /** For logs, e.g. `cosyvoice-1`; never sent to clients. */
  name: string;
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:7860`. */
  url: string;
  /** The kind of server, when the file names it (else the REST API's pool probes). */
  kind?: BackendKind;
}

/** A route as the passthrough uses it: every default applied, paths normalised. */
export interface CompiledRoute {
  name: string;
  /** `/cosyvoice/` (prefix routes always end in `/`), or the exact path. */
  path: string;
  match: "prefix" | "exact";
  /** What replaces `path` upstream; ends in `/` for prefix routes. */
  upstreamPath: string;
  caseSensitive: boolean;
  kind: "auto" | "gradio" | "http";
  /** Allowed methods (upper case); undefined: all. */
  methods: readonly string[] | undefined;
  backends: readonly RouteBackend[];
  balancer: BalancerName;
  rateLimit: RateLimitSpec | undefined;
  /** @unit milliseconds */
  timeoutMs: number;
  auth: boolean;
  synthesis: boolean;
  /** @unit bytes; undefined: the gateway's MAX_UPLOAD_BYTES */
  maxUploadBytes: number | undefined;
}

/** A loaded, valid routes file. */
export interface RoutesConfig {
  format: "ours" | "ocelot";
  routes: readonly CompiledRoute[];
  /** Keys that load but differ from what the file may expect; logged at load. */
  notes: readonly FileNote[];
  /** SHA-256 of the file's bytes: a reload with equal bytes changes nothing. */
  digest: string;
}

/** The file cannot be used; `issues` names each bad field by its path in the file. */
export class RoutesFileError extends Error {
  override name = "RoutesFileError";
  readonly issues: readonly FileIssue[];
  constructor(file: string, issues: FileIssue[]) {
    super(`${file}: ${issues.map((i) => `${i.path === "" ? "(file)" : i.path}: ${i.message}`).join("; ")}`);
    this.issues = issues;
  }
}

const zodPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc === "" ? String(p) : `${acc}.${String(p)}`), "");

const zodIssues = (err: z.ZodError, prefix = ""): FileIssue[] =>
  err.issues.map((i) => {
    const p = zodPath(i.path);
    return { path: prefix === "" ? p : p === "" ? prefix : `${prefix}.${p}`, message: i.message };
  });

const withSlash = (p: string): string => (p.endsWith("/") ? p : `${p}/`);

function compile(entries: RouteFileEntry[], issues: FileIssue[], at: (i: number) => string): CompiledRoute[] {
  const routes = entries.map((e, i): CompiledRoute => {
    const prefix = e.match === "prefix";
    const path = prefix ? withSlash(e.path) : e.path;
    const name = e.name ?? (path.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64) || "root");
    const urls = new Set<string>();
    const backends = e.backends.map((b, j) => {
      const url = (typeof b === "string" ? b : b.url).replace(/\/+$/, "");
      if (urls.has(url)) issues.push({ path: `${at(i)}.backends[${j}]`, message: `${url} is listed twice` });
      urls.add(url);
      const kind = typeof b === "string" ? undefined : b.kind;
      return { name: (typeof b === "string" ? undefined : b.name) ?? `${name}-${j + 1}`, url, ...(kind !== undefined ? { kind } : {}) };
    });
    return {
      name,
      path,
      match: e.match,
      upstreamPath: prefix ? withSlash(e.upstreamPath) : e.upstreamPath,
      caseSensitive: e.caseSensitive,
      kind: e.kind,
      methods: e.methods,
      backends,
      balancer: e.balancer,
      rateLimit: e.rateLimit,
      timeoutMs: e.timeoutMs,
      auth: e.auth,
      synthesis: e.synthesis,
      maxUploadBytes: e.maxUploadBytes,
    };
  });
  const names = new Map<string, number>();
  const paths = new Map<string, number>();
  routes.forEach((r, i) => {
    const n = names.get(r.name);
    if (n !== undefined) issues.push({ path: `${at(i)}.name`, message: `the name ${r.name} is taken by route ${n}` });
    names.set(r.name, i);
    const key = `${r.match}:${r.caseSensitive ? r.path : r.path.toLowerCase()}`;
    const p = paths.get(key);
    if (p !== undefined) issues.push({ path: `${at(i)}.path`, message: `${r.path} is also the path of route ${p}` });
    paths.set(key, i);
    if (r.synthesis && r.kind === "http") issues.push({ path: `${at(i)}.synthesis`, message: "the REST API's backends must be CosyVoice (Gradio) UIs; kind is http" });
  });
  const synth = routes.filter((r) => r.synthesis);
  if (synth.length > 1) issues.push({ path: `${at(routes.indexOf(synth[1] as CompiledRoute))}.synthesis`, message: "only one route can serve the REST API" });
  return routes;
}

/**
 * Parses and validates a routes file's text. YAML is a superset of JSON, so one parser reads
 * both; the format is Ocelot's when the top level has `Routes`, `ReRoutes` or
 * `GlobalConfiguration`, ours otherwise.
 * @throws RoutesFileError listing every problem at its path
 * @example
 * const routes = parseRoutesFile(readFileSync("ocelot.json", "utf8"), "ocelot.json");
 * routes.routes[0]?.path; // "/cosyvoice/"
 */
export function parseRoutesFile(text: string, file = "ROUTES_FILE"): RoutesConfig {
  const digest = createHash("sha256").update(text).digest("hex");
  let doc: unknown;
  try {
    doc = parseYaml(text.replace(/^\uFEFF/, ""), { uniqueKeys: true });
  } catch (err) {
    const e = err as Error & { linePos?: { line: number; col: number }[] };
    const pos = e.linePos?.[0];
    throw new RoutesFileError(file, [{ path: pos ? `line ${pos.line}, column ${pos.col}` : "", message: `not valid JSON or YAML: ${e.message.split("\n")[0] ?? ""}` }]);
  }
  if (isOcelotFile(doc)) {
    const { routes: inputs, issues, notes } = translateOcelot(doc);
    const entries: RouteFileEntry[] = [];
    inputs.forEach((input: RouteInput, i) => {
      const res = RouteSchema.safeParse(input);
      // The translation only writes fields it checked; a failure here names our field.
      if (!res.success) issues.push(...zodIssues(res.error, `Routes[${i}] (as ${input.path})`));
      else entries.push(res.data);
    });
    const routes = compile(entries, issues, (i) => `Routes[${i}]`);
    if (issues.length > 0) throw new RoutesFileError(file, issues);
    return { format: "ocelot", routes, notes, digest };
  }
  const res = RoutesFileSchema.safeParse(doc ?? {});
  if (!res.success) throw new RoutesFileError(file, zodIssues(res.error));
  const issues: FileIssue[] = [];
  const routes = compile(res.data.routes, issues, (i) => `routes[${i}]`);
  if (issues.length > 0) throw new RoutesFileError(file, issues);
  return { format: "ours", routes, notes: [], digest };
}
