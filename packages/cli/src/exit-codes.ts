/**
 * The CLI's exit codes (documented in the README) and the one place that turns anything thrown
 * into a one-line message and a code. Each kind of error says what the person can do.
 */
import { ApiConnectionError, ApiError, ApiUserAbortError } from "cosyvoice3-client";
import { CosyVoiceError, type CosyVoiceErrorCode } from "cosyvoice3-sdk";

/** Exit codes; the README's table lists the same. */
export const EXIT = {
  ok: 0,
  /** A bug in the CLI: please report it. */
  internal: 1,
  /** Bad flags or arguments. */
  usage: 2,
  /** The gateway or UI refused the input (text, audio, mode, instruct). */
  input: 3,
  /** No such voice or audio. */
  notFound: 4,
  /** The API key is missing or wrong. */
  auth: 5,
  /** Busy, queue full or rate limited: retry later. */
  busy: 6,
  /** The gateway or UI cannot be reached (or cut the connection). */
  unreachable: 7,
  /** The backend failed the job. */
  upstream: 8,
  /** The deadline passed; the job was cancelled. */
  timeout: 9,
  /** A local file could not be read or written. */
  file: 10,
  /** Ctrl-C: the job was cancelled. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * An error the CLI reports as one line and exits with.
 * @example throw new CliError("--voice is required with a gateway", EXIT.usage);
 */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function statusExit(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 429 || status === 503) return EXIT.busy;
  if (status === 504) return EXIT.timeout;
  if (status >= 400 && status < 500) return EXIT.input;
  return EXIT.upstream;
}

const SDK_EXIT: Record<CosyVoiceErrorCode, ExitCode> = {
  validation: EXIT.input,
  unsupported_mode: EXIT.input,
  upstream_warning: EXIT.input,
  unsupported_backend: EXIT.upstream,
  queue_full: EXIT.busy,
  timeout: EXIT.timeout,
  aborted: EXIT.interrupted,
  connection: EXIT.unreachable,
  upstream: EXIT.upstream,
};

const FILE_ERRORS = new Set(["ENOENT", "EACCES", "EISDIR", "ENOTDIR", "EEXIST", "ENOSPC", "EROFS", "EPERM", "EMFILE"]);

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/**
 * The message and exit code for anything a command threw.
 * @example const { message, exitCode } = classify(err); process.stderr.write(`cosyvoice: ${message}\n`);
 */
export function classify(err: unknown): { message: string; exitCode: ExitCode; kind: string } {
  if (err instanceof CliError) return { message: oneLine(err.message), exitCode: err.exitCode, kind: "cli" };
  if (err instanceof ApiError) {
    const fields = (err.problem.errors ?? []).map((e) => `${e.pointer || "/"}: ${e.detail}`);
    const detail = err.problem.detail && err.problem.detail !== err.problem.title ? `: ${err.problem.detail}` : "";
    const retry = err.retryAfterMs !== undefined ? ` (retry in ${Math.ceil(err.retryAfterMs / 1000)} s)` : "";
    const text = `${err.problem.title}${detail}${fields.length ? ` (${fields.join("; ")})` : ""}${retry} [${err.slug}, HTTP ${err.status}]`;
    return { message: oneLine(text), exitCode: statusExit(err.status), kind: err.slug };
  }
  if (err instanceof ApiUserAbortError) return { message: "cancelled", exitCode: EXIT.interrupted, kind: "aborted" };
  if (err instanceof ApiConnectionError) return { message: oneLine(err.message), exitCode: EXIT.unreachable, kind: "connection" };
  if (err instanceof CosyVoiceError) {
    const issues = (err as CosyVoiceError & { issues?: { path: (string | number)[]; message: string }[] }).issues ?? [];
    const fields = issues.map((i) => `${i.path.join(".") || "request"}: ${i.message}`);
    const warning = (err as CosyVoiceError & { warning?: string }).warning;
    const text = err.code === "aborted" ? "cancelled" : `${err.message}${warning && !err.message.includes(warning) ? `: ${warning}` : ""}${fields.length ? ` (${fields.join("; ")})` : ""} [${err.code}]`;
    return { message: oneLine(text), exitCode: SDK_EXIT[err.code] ?? EXIT.upstream, kind: err.code };
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === "string" && FILE_ERRORS.has(code)) {
    const e = err as NodeJS.ErrnoException;
    return { message: oneLine(`${e.path ?? "file"}: ${e.syscall ?? "access"} failed (${code})`), exitCode: EXIT.file, kind: "file" };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { message: oneLine(`internal error: ${message} (please report this)`), exitCode: EXIT.internal, kind: "internal" };
}
