/**
 * The gateway's logger: JSON lines for machines (no TTY, or `LOG_FORMAT=json`), one readable line
 * per request for a person at a terminal (pino-pretty), and in neither a credential. Request and
 * response headers pass through {@link scrubHeaders} (Authorization, cookies, API-key headers and
 * Set-Cookie are dropped, not masked: their length says nothing either), URLs through
 * {@link scrubUrl} (key- and token-like query parameters), and the logger's `redact` paths are a
 * second net for fields logged by hand.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";
import { createRequire } from "node:module";
import type { PinoPretty as PinoPrettyFn } from "pino-pretty";
import { redactText } from "../backends/registry/redact.ts";

/** `LOG_FORMAT`: `auto` is pretty on a TTY, JSON otherwise. */
export type LogFormat = "auto" | "json" | "pretty";

/** Headers whose values are credentials, lower case. */
export const SECRET_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "api-key",
  "x-auth-token",
  "x-goog-api-key",
]);

/** Query parameters that carry credentials (`?api_key=`, `?token=`, `?access_token=`...). */
const SECRET_PARAM = /^(api[-_]?key|key|token|access[-_]?token|auth|password|secret|signature|sig)$/i;

/** Paths pino blanks in anything logged by hand (a header object or options passed as a field). */
export const REDACT_PATHS = [
  "headers.authorization",
  "headers.cookie",
  'headers["set-cookie"]',
  'headers["x-api-key"]',
  "*.headers.authorization",
  "*.headers.cookie",
  '*.headers["set-cookie"]',
  '*.headers["x-api-key"]',
  "apiKey",
  "apiKeys",
  "adminKeys",
  "*.apiKey",
  "*.apiKeys",
  "*.adminKeys",
];

/**
 * Headers without the credential ones.
 * @example scrubHeaders({ authorization: "Bearer k", accept: "audio/aac" }) // { accept: "audio/aac" }
 */
export function scrubHeaders<H extends IncomingHttpHeaders | OutgoingHttpHeaders>(headers: H | undefined): Partial<H> {
  if (!headers) return {};
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !SECRET_HEADERS.has(name.toLowerCase()))) as Partial<H>;
}

/**
 * A request URL with key- and token-like query values replaced.
 * @example scrubUrl("/audio/a_1?api_key=abc&format=mp3") // "/audio/a_1?api_key=[redacted]&format=mp3"
 */
export function scrubUrl(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const name = decodeURIComponentSafe(eq < 0 ? pair : pair.slice(0, eq));
      return eq >= 0 && SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${params.join("&")}`;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A parsed query (Express's `req.query`) with key- and token-like values replaced. */
function scrubQuery(query: unknown): unknown {
  if (typeof query !== "object" || query === null) return query;
  return Object.fromEntries(Object.entries(query).map(([k, v]) => [k, SECRET_PARAM.test(k) ? "[redacted]" : v]));
}

/** pino-http's serializers: its standard ones, then headers, URL and query scrubbed. */
export const httpLogSerializers = {
  req: (req: { url?: string; headers?: IncomingHttpHeaders; query?: unknown } & Record<string, unknown>) => ({
    ...req,
    url: scrubUrl(req.url ?? ""),
    ...(req.query !== undefined ? { query: scrubQuery(req.query) } : {}),
    headers: scrubHeaders(req.headers),
  }),
  res: (res: { headers?: OutgoingHttpHeaders } & Record<string, unknown>) => ({ ...res, headers: scrubHeaders(res.headers) }),
};

/**
 * The format in force: `LOG_FORMAT` when json or pretty; else pretty only on a terminal.
 * @example resolveLogFormat("auto", process.stdout.isTTY) // "pretty" in a terminal, "json" under systemd or docker
 */
export function resolveLogFormat(format: LogFormat, isTTY: boolean | undefined): "json" | "pretty" {
  return format === "auto" ? (isTTY ? "pretty" : "json") : format;
}

interface LogRecord {
  msg?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
  err?: { type?: string; message?: string };
  // the passthrough's own request line
  method?: string;
  path?: string;
  status?: number;
  ms?: number;
  route?: string;
}

/**
 * One line per record: a request as `GET /voices -> 200  3 ms`, anything else its message; an
 * error as `(Type: message)` at the end (the stack is in the JSON format, LOG_FORMAT=json).
 */
function messageFormat(log: LogRecord, messageKey: string): string {
  let line: string;
  if (log.req && log.res) {
    const ms = typeof log.responseTime === "number" ? `  ${Math.round(log.responseTime)} ms` : "";
    line = `${log.req.method ?? ""} ${log.req.url ?? ""} -> ${log.res.statusCode ?? ""}${ms}`;
  } else if (log.msg === "passthrough request" && log.method && log.path) {
    line = `${log.method} ${log.path} -> ${log.status ?? ""}  ${log.ms ?? ""} ms  (route ${log.route ?? ""})`;
  } else {
    line = String((log as Record<string, unknown>)[messageKey] ?? "");
  }
  // pino-http's own "failed with status code N" says nothing the status does not.
  const err = log.err && !(log.req && log.res) ? `  (${log.err.type ?? "Error"}: ${log.err.message ?? ""})` : "";
  return line + err;
}

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  level: LoggerOptions["level"];
  format: "json" | "pretty";
  /** Where lines go. @default process.stdout (fd 1) */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Colours in pretty lines. @default whether the destination is a TTY */
  colorize?: boolean;
  base?: LoggerOptions["base"];
  mixin?: LoggerOptions["mixin"];
}

/** pino's error serializer, with the user info of every URL in the message and stack replaced. */
function redactedErr(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown;
  if (typeof out !== "object" || out === null) return out;
  const o = out as { message?: unknown; stack?: unknown };
  return { ...o, ...(typeof o.message === "string" ? { message: redactText(o.message) } : {}), ...(typeof o.stack === "string" ? { stack: redactText(o.stack) } : {}) };
}

/**
 * The gateway's root logger.
 * @example const logger = createLogger({ level: "info", format: resolveLogFormat(config.logFormat, process.stdout.isTTY) });
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const common: LoggerOptions = {
    level: options.level ?? "info",
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    // An error's message or stack may quote a box URL with its credentials (an SDK connection
    // error does): they never reach a log line.
    serializers: { err: redactedErr },
    ...(options.base !== undefined ? { base: options.base } : {}),
    ...(options.mixin ? { mixin: options.mixin } : {}),
  };
  if (options.format === "json") return options.destination ? pino(common, options.destination as DestinationStream) : pino(common);
  const destination = options.destination ?? process.stdout;
  // Loaded only for a person at a terminal: a gateway logging JSON never holds it in memory.
  const { PinoPretty } = createRequire(import.meta.url)("pino-pretty") as { PinoPretty: typeof PinoPrettyFn };
  const pretty = PinoPretty({
    destination: destination as NodeJS.WritableStream,
    colorize: options.colorize ?? (destination as { isTTY?: boolean }).isTTY === true,
    singleLine: true,
    translateTime: "SYS:HH:MM:ss",
    // Fields a person does not read per line (the request line says method, path, status, time).
    ignore: "pid,hostname,service,req,res,responseTime,reqId,requestId,err,component,method,path,status,ms,route,complete",
    errorLikeObjectKeys: [],
    messageFormat: messageFormat as never,
    sync: true,
  });
  return pino(common, pretty);
}
