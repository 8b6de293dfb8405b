/**
 * The speech-recognition box: an OpenAI-compatible transcription server (speaches,
 * faster-whisper-server, FunASR's OpenAI mode, the stand-in's `--serve asr`) reached at
 * `POST {ASR_URL}/audio/transcriptions` with multipart `file` and `model`. It is a box of the
 * registry (`options.box`): one health check per box (this client's probe), the box's breaker,
 * its line at `/readyz` and `/metrics`, and a route of the routes file to the same server is the
 * same box. It has its own metrics and its own errors: what a failed transcription
 * means is declared on the error, and the callers decide what to do without it (a voice stays
 * usable for cross-lingual; a consent cannot be checked).
 */
import type { Logger } from "pino";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { BackendBreaker, type BoxBreaker } from "../breaker/index.ts";
import type { Box } from "../registry/index.ts";
import { AsrError } from "./errors.ts";

/** Options of {@link createAsrClient}. */
export interface AsrClientOptions {
  /** The server's OpenAI base URL, e.g. `http://asr:8000/v1`. */
  url: string;
  /** The `model` field sent with each file. @default "whisper-1" */
  model?: string;
  /** Deadline of one transcription. @default 30_000 @unit milliseconds */
  timeoutMs?: number;
  /** Consecutive box faults that open the breaker; 0 turns it off. @default 5 */
  breakerFailures?: number;
  /** How long an open breaker sends nothing. @default 10_000 @unit milliseconds */
  breakerOpenMs?: number;
  logger: Logger;
  /** Where `cosyvoice_gateway_asr_*` series are registered. @default not counted */
  registry?: Registry;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * The registry's box for this server: its breaker (made here when it has none), its health
   * (every transcription and check reports to it) and its check (this client's probe). @default a
   * breaker of its own, and no registry
   */
  box?: Box;
}

/** One audio file to transcribe. */
export interface AsrInput {
  data: Uint8Array;
  /** e.g. `audio/wav` */
  mimeType: string;
  /** File extension without the dot, e.g. `wav`. */
  ext: string;
  /** A BCP 47 tag or ISO 639-1 code; the server guesses without it. */
  language?: string;
}

/** What the server heard. */
export interface Transcript {
  text: string;
  /** @unit milliseconds */
  elapsedMs: number;
}

/** The box's state, as `/readyz` and the registry show it. */
export interface AsrStatus {
  /** The box's name in the registry (`asr` unless a route named it first). */
  name: string;
  kind: "asr";
  url: string;
  up: boolean | undefined;
  breaker: "closed" | "open" | "half-open";
  lastError?: string;
}

/** The ASR box. */
export interface AsrClient {
  readonly url: string;
  /**
   * Transcribes one file.
   * @throws AsrError (unreachable, failed, timed out, breaker open, or an empty transcript)
   */
  transcribe(input: AsrInput, options?: { signal?: AbortSignal }): Promise<Transcript>;
  /** Probes the server (`GET {url}/models`, else `GET /health`); true when it answers. */
  health(signal?: AbortSignal): Promise<boolean>;
  status(): AsrStatus;
}

/** OpenAI's `language` is ISO 639-1: `en-US` becomes `en`. */
function isoLanguage(tag: string | undefined): string | undefined {
  const primary = tag?.split(/[-_]/)[0]?.toLowerCase();
  return primary !== undefined && /^[a-z]{2}$/.test(primary) ? primary : undefined;
}

/** The `text` of an OpenAI transcription (`json`), or a bare text body (`text`). */
async function textOf(res: Response): Promise<string> {
  const body = await res.text();
  if ((res.headers.get("content-type") ?? "").includes("json")) {
    const parsed = JSON.parse(body) as { text?: unknown };
    if (typeof parsed.text !== "string") throw new Error("the answer has no text field");
    return parsed.text;
  }
  return body;
}

function metricsOn(registry: Registry | undefined) {
  if (!registry) return undefined;
  const registers = [registry];
  const prefix = "cosyvoice_gateway_asr_";
  const calls = new Counter({ name: `${prefix}transcriptions_total`, help: "Transcriptions by outcome (ok, empty, failed, unreachable, timeout, breaker_open)", labelNames: ["outcome"], registers });
  const seconds = new Histogram({ name: `${prefix}transcription_duration_seconds`, help: "Time the ASR server took for one transcription", buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30], registers });
  const up = new Gauge({ name: `${prefix}up`, help: "1 when the ASR server's last check or transcription succeeded", registers });
  for (const outcome of ["ok", "empty", "failed", "unreachable", "timeout", "breaker_open"]) calls.inc({ outcome }, 0);
  return { calls, seconds, up };
}

/**
 * @example
 * const asr = createAsrClient({ url: "http://127.0.0.1:8000/v1", logger });
 * const { text } = await asr.transcribe({ data: wav, mimeType: "audio/wav", ext: "wav" });
 */
export function createAsrClient(options: AsrClientOptions): AsrClient {
  const base = options.url.replace(/\/+$/, "");
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const log = options.logger.child({ component: "asr" });
  const metrics = metricsOn(options.registry);
  const failures = options.breakerFailures ?? 5;
  const box = options.box;
  let breaker: BoxBreaker | undefined = box?.breaker;
  if (!breaker && failures > 0) {
    breaker = new BackendBreaker({ name: box?.name ?? "asr", threshold: failures, halfOpenAfterMs: options.breakerOpenMs ?? 10_000, logger: log });
    if (box) box.breaker = breaker;
  }
  let up: boolean | undefined;
  let lastError: string | undefined;
  const mark = (ok: boolean, err?: string) => {
    up = ok;
    lastError = err;
    metrics?.up.set(ok ? 1 : 0);
    if (ok) box?.health.markUp("asr answered");
    else box?.health.markDown(new AsrError("unreachable", err ?? "the ASR server does not answer"), "asr failed");
  };

  async function post(input: AsrInput, signal: AbortSignal): Promise<string> {
    const form = new FormData();
    form.set("file", new Blob([input.data.slice()], { type: input.mimeType }), `audio.${input.ext}`);
    form.set("model", options.model ?? "whisper-1");
    form.set("response_format", "json");
    const language = isoLanguage(input.language);
    if (language !== undefined) form.set("language", language);
    let res: Response;
    try {
      res = await doFetch(`${base}/audio/transcriptions`, { method: "POST", body: form, signal });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new AsrError("unreachable", `the ASR server does not answer (${(err as Error).message})`, { cause: err });
    }
    if (!res.ok) {
      const detail = (await res.text().catch(() => "")).slice(0, 300);
      // 4xx: the server refused this file (unreadable audio); 5xx: the server failed.
      throw new AsrError(res.status >= 500 ? "failed" : "refused", `the ASR server answered ${res.status}${detail ? `: ${detail}` : ""}`);
    }
    try {
      return (await textOf(res)).trim();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new AsrError("failed", `the ASR server's answer is not a transcription (${(err as Error).message})`, { cause: err });
    }
  }

  const client: AsrClient = {
    url: base,
    async transcribe(input, opts = {}) {
      if (breaker && !breaker.allow()) {
        metrics?.calls.inc({ outcome: "breaker_open" });
        throw new AsrError("breaker_open", "the ASR server failed repeatedly; it is not asked again for a while");
      }
      let settled = false;
      const ticket = breaker && {
        done(err?: unknown) {
          if (settled) return;
          settled = true;
          if (err === undefined) breaker.success();
          else breaker.failure(err);
        },
      };
      const deadline = AbortSignal.timeout(timeoutMs);
      const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
      const started = performance.now();
      try {
        const text = await post(input, signal);
        const elapsedMs = performance.now() - started;
        metrics?.seconds.observe(elapsedMs / 1000);
        ticket?.done();
        mark(true);
        if (text === "") {
          metrics?.calls.inc({ outcome: "empty" });
          throw new AsrError("empty", "the ASR server heard no words in the audio");
        }
        metrics?.calls.inc({ outcome: "ok" });
        return { text, elapsedMs };
      } catch (caught) {
        let err = caught;
        // The deadline, not the caller, ended it.
        if (deadline.aborted && !opts.signal?.aborted) err = new AsrError("timeout", `the ASR server did not answer within ${timeoutMs} ms`, { cause: caught });
        if (err instanceof AsrError) {
          if (err.boxFault) {
            // The breaker counts what the error declares a box fault.
            ticket?.done(err);
            mark(false, err.message);
          } else {
            // A file the server refused, or silence: the box worked.
            ticket?.done();
          }
          if (err.reason !== "empty") metrics?.calls.inc({ outcome: err.reason === "refused" ? "failed" : err.reason });
        } else {
          ticket?.done();
        }
        throw err;
      }
    },
    async health(signal) {
      const probe = AbortSignal.any([AbortSignal.timeout(5_000), ...(signal ? [signal] : [])]);
      for (const url of [`${base}/models`, `${new URL(base).origin}/health`]) {
        try {
          const res = await doFetch(url, { signal: probe });
          await res.body?.cancel();
          if (res.ok) {
            mark(true);
            return true;
          }
        } catch {
          // try the next probe
        }
      }
      mark(false, "the ASR server does not answer its health probe");
      return false;
    },
    status() {
      return {
        name: box?.name ?? "asr",
        kind: "asr",
        url: base,
        up,
        breaker: breaker?.state ?? "closed",
        ...(lastError !== undefined ? { lastError } : {}),
      };
    },
  };
  // The registry's one check of this box is this client's probe.
  if (box) {
    box.asrProbe = async () => {
      if (!(await client.health())) throw new AsrError("unreachable", "the ASR server does not answer its health probe");
    };
  }
  return client;
}
