/**
 * Zod issues as messages written for the person who sent the request: each names the field by
 * its full path, says what was expected and what arrived, lists the allowed values of an enum,
 * suggests the near miss ("did you mean promptText?") and says "required" for a missing field.
 * The pointer is the field's JSON pointer (RFC 6901), also for unknown keys and inside unions.
 */
import type { z } from "zod";
import type { ProblemFieldError } from "../../doors/problems.ts";

/** Options of {@link describeIssues}. */
export interface DescribeOptions {
  /** What was parsed: tells a missing field (required) from a wrong one, and shows what arrived. */
  input?: unknown;
  /** The schema it was parsed with: gives the known keys for "did you mean". */
  schema?: z.ZodType;
  /** Prepended to every pointer, e.g. `/items/0`. @default "" */
  prefix?: string;
  /** Per dotted path, a hint appended when the value has the wrong type, e.g. `{ instruct: "..." }`. */
  hints?: Record<string, string>;
  /** Other spellings of enum values, normalised -> value, e.g. `{ "四川话": "sichuan" }`. */
  valueAliases?: Record<string, string>;
}

/** Names people and other APIs use for our fields; a key that normalises to one gets the suggestion. */
const ALIASES: Record<string, string> = {
  voiceid: "voice",
  speaker: "voice",
  speakerid: "voice",
  spk: "voice",
  input: "text",
  ttstext: "text",
  prompt: "promptText",
  transcript: "promptText",
  instruction: "instruct",
  instructtext: "instruct",
  speedfactor: "speed",
  randomseed: "seed",
  file: "audio",
  promptaudio: "audio",
  promptwav: "audio",
};

const normalise = (s: string) => s.toLowerCase().replace(/[\s_-]/g, "");

/** Edit distance (insertions, deletions, substitutions), for near misses. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] ?? 0;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] ?? 0;
      prev[j] = Math.min(up + 1, (prev[j - 1] ?? 0) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] ?? 0;
}

/**
 * The candidate a mistyped key or value most likely meant: the same once case, `_` and `-` are
 * ignored; a known alias; one that starts the other (`Sichuanese` -> `sichuan`); or at most two
 * edits away (one for short words).
 * @example nearest("prompt_text", ["text", "promptText"]) // "promptText"
 */
export function nearest(given: string, candidates: readonly string[], aliases: Record<string, string> = ALIASES): string | undefined {
  const g = normalise(given);
  if (g === "") return undefined;
  const exact = candidates.find((c) => normalise(c) === g);
  if (exact) return exact;
  const alias = aliases[g];
  if (alias !== undefined && candidates.includes(alias)) return alias;
  const prefixed = candidates.filter((c) => {
    const n = normalise(c);
    return n.length >= 4 && g.length >= 4 && (g.startsWith(n) || n.startsWith(g));
  });
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(g, normalise(c));
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= (g.length <= 4 ? 1 : 2) ? best : undefined;
}

type Path = readonly PropertyKey[];

const pointerOf = (prefix: string, path: Path) =>
  prefix + path.map((p) => "/" + String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
const dotted = (path: Path) => path.map(String).join(".") || "the body";

function valueAt(input: unknown, path: Path): { found: boolean; value: unknown } {
  let v: unknown = input;
  for (const p of path) {
    if (typeof v !== "object" || v === null || !Object.prototype.hasOwnProperty.call(v, p)) return { found: false, value: undefined };
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return { found: true, value: v };
}

const kindOf = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : typeof v === "string" ? "a string" : `a ${typeof v}`;

const show = (v: unknown): string => {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    return kindOf(v); // nested too deep to print (the JSON parser allows it, the stack does not)
  }
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + "..." : s;
};

const article = (t: string) => (t === "integer" || t === "object" || t === "array" ? `an ${t}` : `a ${t}`);

interface ZodDefLike {
  type: string;
  shape?: Record<string, { _zod: { def: ZodDefLike } }>;
  innerType?: { _zod: { def: ZodDefLike } };
  options?: { _zod: { def: ZodDefLike } }[];
  in?: { _zod: { def: ZodDefLike } };
  out?: { _zod: { def: ZodDefLike } };
  element?: { _zod: { def: ZodDefLike } };
}

/** The object keys a schema accepts at a path (through optionals, unions and pipes). */
function keysAt(schema: z.ZodType | undefined, path: Path): string[] {
  const found: string[] = [];
  const walk = (def: ZodDefLike | undefined, rest: Path): void => {
    if (!def) return;
    switch (def.type) {
      case "optional":
      case "nullable":
      case "default":
      case "prefault":
      case "readonly":
      case "catch":
        return walk(def.innerType?._zod.def, rest);
      case "pipe":
        walk(def.in?._zod.def, rest);
        return;
      case "union":
        for (const o of def.options ?? []) walk(o._zod.def, rest);
        return;
      case "array":
        if (rest.length > 0) walk(def.element?._zod.def, rest.slice(1));
        return;
      case "object":
        if (rest.length === 0) found.push(...Object.keys(def.shape ?? {}));
        else walk(def.shape?.[String(rest[0])]?._zod.def, rest.slice(1));
        return;
    }
  };
  walk((schema as unknown as { _zod?: { def: ZodDefLike } } | undefined)?._zod?.def, path);
  return [...new Set(found)];
}

/** Zod's own wording, which says nothing about the field; custom messages from our schemas are kept. */
const ZOD_DEFAULT = /^(Invalid input|Invalid option|Too big|Too small|Invalid string|Invalid number|Unrecognized key|Invalid element|Invalid key|Invalid value)/;

function withPath(path: Path, message: string): string {
  const last = path.length > 0 ? String(path[path.length - 1]) : undefined;
  // Our custom messages start with the field's own name ("text must not be empty"): name it in full.
  if (last !== undefined && message.startsWith(last + " ")) return `${dotted(path)} ${message.slice(last.length + 1)}`;
  return `${dotted(path)}: ${message}`;
}

function listValues(values: readonly unknown[]): string {
  return values.map((v) => show(v)).join(", ");
}

type Issue = z.core.$ZodIssue;

function describe(issue: Issue, base: Path, opts: DescribeOptions, out: ProblemFieldError[]): void {
  const path: Path = [...base, ...issue.path];
  const prefix = opts.prefix ?? "";
  const at = valueAt(opts.input, path);
  const push = (detail: string, code: string, p: Path = path): void => void out.push({ pointer: pointerOf(prefix, p), detail, code });

  switch (issue.code) {
    case "unrecognized_keys": {
      const known = keysAt(opts.schema, path);
      for (const key of issue.keys) {
        const guess = nearest(key, known);
        const where = path.length > 0 ? ` in ${dotted(path)}` : "";
        const hint = guess ? `; did you mean "${guess}"?` : known.length > 0 ? `; known fields${where}: ${known.join(", ")}` : "";
        push(`unknown field "${key}"${where}${hint}`, "unknown_field", [...path, key]);
      }
      return;
    }
    case "invalid_union": {
      // Report the branch that fits the kind of value sent (an object -> the object branch);
      // when none does, say which kinds are accepted.
      const branches = issue.errors.filter((errs) => !errs.some((e) => e.code === "invalid_type" && e.path.length === 0));
      const [only] = branches;
      if (branches.length === 1 && only) {
        for (const e of only) describe(e, path, opts, out);
        return;
      }
      const kinds = issue.errors.flatMap((errs) => errs.filter((e) => e.code === "invalid_type" && e.path.length === 0).map((e) => (e as { expected: string }).expected));
      if (!at.found) return push(`${dotted(path)} is required`, "required");
      const hint = opts.hints?.[dotted(path)];
      return push(
        `${dotted(path)} must be ${[...new Set(kinds)].map(article).join(" or ")}, not ${kindOf(at.value)}${hint ? ` (${hint})` : ""}`,
        "invalid_type",
      );
    }
    case "invalid_type": {
      if (!at.found || at.value === undefined) return push(`${dotted(path)} is required`, "required");
      if (!ZOD_DEFAULT.test(issue.message)) return push(withPath(path, issue.message), issue.code);
      const hint = opts.hints?.[dotted(path)];
      return push(
        `${dotted(path)} must be ${article(issue.expected)}, not ${kindOf(at.value)} (${show(at.value)})${hint ? `; ${hint}` : ""}`,
        issue.code,
      );
    }
    case "invalid_value": {
      if (!ZOD_DEFAULT.test(issue.message)) return push(withPath(path, issue.message), issue.code);
      const allowed = issue.values.filter((v): v is string => typeof v === "string");
      const guess = typeof at.value === "string" ? nearest(at.value, allowed, { ...ALIASES, ...opts.valueAliases }) : undefined;
      const got = at.found ? `, not ${show(at.value)}` : "";
      return push(
        `${dotted(path)} must be one of ${listValues(issue.values)}${got}${guess ? `; did you mean "${guess}"?` : ""}`,
        issue.code,
      );
    }
    case "too_big":
    case "too_small": {
      if (!ZOD_DEFAULT.test(issue.message)) return push(withPath(path, issue.message), issue.code);
      const big = issue.code === "too_big";
      const bound = big ? issue.maximum : issue.minimum;
      const strict = issue.inclusive === false;
      const word = big ? (strict ? "less than" : "at most") : strict ? "more than" : "at least";
      const unit = issue.origin === "string" ? " characters" : issue.origin === "array" ? " items" : "";
      const got = at.found && typeof at.value === "number" ? ` (got ${at.value})` : at.found && typeof at.value === "string" ? ` (got ${at.value.length})` : "";
      return push(`${dotted(path)} must be ${word} ${String(bound)}${unit}${got}`, issue.code);
    }
    default: {
      const code = issue.code === "custom" && typeof issue.params?.["code"] === "string" ? issue.params["code"] : issue.code;
      return push(withPath(path, issue.message), code);
    }
  }
}

/**
 * Zod issues as problem `errors[]` entries, one per field (an unknown key gets its own pointer).
 * @example
 * describeIssues(result.error, { input: body, schema })
 * // [{ pointer: "/instruct/emotion", detail: 'instruct.emotion must be one of "happy", "sad", "angry", not "excited"', code: "invalid_value" }]
 */
export function describeIssues(error: z.ZodError, opts: DescribeOptions = {}): ProblemFieldError[] {
  const out: ProblemFieldError[] = [];
  const unknownAt = new Set(error.issues.filter((i) => i.code === "unrecognized_keys").map((i) => i.path.join("\u0000")));
  for (const issue of error.issues) {
    // "at least one control is required" beside an unknown key: renaming the key is the fix.
    if (issue.code === "custom" && unknownAt.has(issue.path.join("\u0000"))) continue;
    describe(issue, [], opts, out);
  }
  return out;
}

/**
 * One sentence for the problem's `detail`: the first field error, and how many more there are.
 * @example summarise(errors) // 'instruct.emotion must be one of "happy", "sad", "angry", not "excited"'
 */
export function summarise(errors: readonly ProblemFieldError[]): string {
  const [first] = errors;
  if (!first) return "The request is invalid";
  const rest = errors.length - 1;
  return rest > 0 ? `${first.detail} (and ${rest} more: see errors)` : first.detail;
}

/**
 * The field error for a multipart request without its file. When the field arrived as text
 * (`curl -F audio=prompt.wav`, without the `@` that makes curl send the file), it says so.
 * @example missingFile("audio", { audio: "prompt.wav" }).detail // 'audio arrived as the text "prompt.wav", not as a file: ...'
 */
export function missingFile(field: string, textFields: unknown): ProblemFieldError {
  const text = (textFields as Record<string, unknown> | undefined)?.[field];
  if (typeof text === "string") {
    return {
      pointer: `/${field}`,
      code: "file_sent_as_text",
      detail: `${field} arrived as the text ${show(text)}, not as a file: send the file itself (curl: -F ${field}=@${text.startsWith("@") ? text.slice(1) : text || "prompt.wav"}, with the @; a browser form: <input type="file" name="${field}">)`,
    };
  }
  return { pointer: `/${field}`, code: "required", detail: `${field} is required: the prompt audio file, as a multipart file field (curl: -F ${field}=@prompt.wav)` };
}
