/**
 * One @gradio/client `Client` per job, and the only file that relies on @gradio/client beyond
 * its documented surface (`new Client(url, options)` with the typed `ClientOptions`, `submit`,
 * `upload_files`, `close`). Three details are not documented and are unavoidable; the version is
 * pinned exactly (pnpm catalog) and `test/gradio-client-private-details-pinned.test.ts` fails
 * loudly when an upgrade moves any of them:
 *
 * 1. Every HTTP request the client makes goes through its `fetch` method, which a subclass may
 *    override: the caller's injected fetch, headers and the session's lifetime signal go there.
 * 2. The queue's event stream is opened by its `stream(url)` method and driven through the
 *    returned object's `onmessage({ data })`: our reader uses the injected fetch, logs nothing,
 *    parses SSE with eventsource-parser and reports a stream that breaks mid-job.
 * 3. A client made with `new` works from fields that `Client.connect` would fill from
 *    `/config` and `/info` (`config`, `api_info`, `api_map`, `api_prefix`): they are adopted
 *    from the one connect, so a job costs no `/config` or `/info` request, and `config.root` is
 *    the URL the caller gave (not the root Gradio derived from its Host header). The same goes
 *    for `session_hash`: the documented `session_hash` option is applied by `Client.connect`
 *    only, not by the constructor, so it is set here (from crypto, not `Math.random`). Each job
 *    gets a fresh one, because jobs sharing a session share one event stream (cancelling one can
 *    break the others) and on gradio 5.x can get each other's audio.
 */
import { randomBytes } from "node:crypto";
import * as gradio from "@gradio/client";
import { ConnectionError, UnsupportedBackendError } from "../errors.ts";
import type { Logger } from "../types.ts";
import { openSse } from "./sse.ts";

/** The @gradio/client version whose undocumented details this file relies on. */
export const PINNED_GRADIO_CLIENT = "2.7.0";

/**
 * The parts of @gradio/client's `Client` the SDK uses. Its published .d.ts files import each
 * other without extensions, which NodeNext resolution cannot follow, so the shape is stated here.
 */
interface GradioClient {
  app_reference: string;
  config: unknown;
  api_prefix: string;
  api_info: unknown;
  api_map: Record<string, number>;
  session_hash: string;
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  stream(url: URL): EventSource;
  submit(endpoint: string | number, data: unknown[]): GradioJob;
  view_api(): Promise<unknown>;
  upload_files(root_url: string, files: (Blob | File)[]): Promise<{ files?: string[]; error?: string }>;
  close(): void;
}

/** @gradio/client's SubmitIterable, as far as the SDK uses it. */
export interface GradioJob extends AsyncIterable<unknown> {
  [Symbol.asyncIterator](): AsyncIterator<unknown> & { return?: () => Promise<IteratorResult<unknown>> };
  event_id(): string;
  wait_for_id(): Promise<string | null>;
}

/** The documented `ClientOptions` fields the SDK sets. */
interface SessionOptions {
  events: ("data" | "status" | "log")[];
  with_null_state: boolean;
  record_history: boolean;
}

const GradioClientBase = gradio.Client as unknown as new (appReference: string, options: SessionOptions) => GradioClient;

/** What `connect` learnt once and every job's session adopts (detail 3). */
export interface GradioState {
  /** `/config` as the server sent it, with `root` set to the caller's URL. */
  config: Record<string, unknown>;
  /** API info as @gradio/client's own `view_api()` shapes it. */
  apiInfo: unknown;
  apiMap: Record<string, number>;
  apiPrefix: string;
}

/** What every job of one connected client shares. */
export interface GradioContext {
  /** The URL the caller gave, without a trailing slash; every request goes here. */
  baseUrl: string;
  apiPrefix: string;
  /** Filled by `connect` (see {@link describeApi}); undefined only while connecting. */
  state?: GradioState;
  fetch: typeof fetch;
  headers: Record<string, string>;
  logger: Logger;
  /** Largest SSE event the queue stream may carry. @unit bytes */
  maxEventBytes: number;
}

/** The last HTTP answer a session got (before a job has an id, that is the join's). */
export interface LastAnswer {
  status: number;
  retryAfter: string | null;
}

/**
 * A @gradio/client Client for one job (or one upload): its own session hash, every request
 * through the injected fetch and bounded by the session's lifetime, the queue stream read by
 * {@link openSse}.
 */
export class SessionClient extends GradioClientBase {
  private readonly ctx: GradioContext;
  private readonly lifetime = new AbortController();
  private readonly streams: AbortController[] = [];
  /** The last response's status and Retry-After, whatever the request. */
  lastAnswer: LastAnswer | undefined;
  /** The last error thrown by fetch, kept as the `cause` of connection errors. */
  lastFetchError: unknown;
  /** Called when a stream of this session breaks or ends while the session is open. */
  onBroken: (cause: unknown) => void = () => undefined;

  /** `signal` ends the session early (an upload whose call was aborted). */
  constructor(ctx: GradioContext, signal?: AbortSignal) {
    super(ctx.baseUrl, {
      events: ["data", "status", "log"],
      // Outputs the UI did not send stay null instead of repeating the component's state.
      with_null_state: true,
      record_history: false,
    });
    this.ctx = ctx;
    // The session is what keeps one caller's stream from another's: not guessable.
    this.session_hash = randomBytes(16).toString("hex");
    if (ctx.state) {
      this.config = ctx.state.config;
      this.api_info = ctx.state.apiInfo;
      this.api_map = ctx.state.apiMap;
      this.api_prefix = ctx.state.apiPrefix;
    } else {
      // Only `describeApi` runs without state: it needs the config to let view_api fetch /info.
      this.api_prefix = ctx.apiPrefix;
    }
    if (signal) {
      if (signal.aborted) this.lifetime.abort(signal.reason);
      else signal.addEventListener("abort", () => this.lifetime.abort(signal.reason), { once: true, signal: this.lifetime.signal });
    }
  }

  /** True once the session is closed or its signal fired. */
  get ended(): boolean {
    return this.lifetime.signal.aborted;
  }

  /** The signal that ends every request and stream of this session. */
  get signal(): AbortSignal {
    return this.lifetime.signal;
  }

  override async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const headers = new Headers(init?.headers);
    for (const [k, v] of Object.entries(this.ctx.headers)) headers.set(k, v);
    const signal = init?.signal ? AbortSignal.any([init.signal, this.lifetime.signal]) : this.lifetime.signal;
    try {
      const res = await this.ctx.fetch(input, { ...init, headers, signal });
      this.lastAnswer = { status: res.status, retryAfter: res.headers.get("retry-after") };
      return res;
    } catch (e) {
      this.lastFetchError = e;
      throw e;
    }
  }

  override stream(url: URL): EventSource {
    const ctl = new AbortController();
    this.streams.push(ctl);
    // After close() a late open_stream (join answered after the call gave up) must not open anything.
    if (this.ended) ctl.abort();
    const src = openSse(url.href, {
      fetch: this.ctx.fetch,
      headers: this.ctx.headers,
      signal: AbortSignal.any([ctl.signal, this.lifetime.signal]),
      maxEventBytes: this.ctx.maxEventBytes,
      onBroken: (cause) => this.onBroken(cause),
    });
    return src as unknown as EventSource;
  }

  /** Ends the session: @gradio/client's own close, then every request and stream it left open. */
  override close(): void {
    super.close();
    for (const s of this.streams) s.abort();
    this.lifetime.abort();
  }
}

/**
 * The state every job's session adopts: the caller's URL as root, the API info shaped by
 * @gradio/client's public `view_api()` (one `/info` request), the endpoint map from `/config`.
 */
export async function describeApi(ctx: GradioContext, config: Record<string, unknown>, signal: AbortSignal): Promise<GradioState> {
  const rooted = { ...config, root: ctx.baseUrl };
  const apiMap: Record<string, number> = {};
  const deps = Array.isArray(config["dependencies"]) ? (config["dependencies"] as { api_name?: unknown; id?: number }[]) : [];
  for (const [i, dep] of deps.entries()) {
    if (typeof dep.api_name === "string") apiMap[dep.api_name] = dep.id ?? i;
  }
  const client = new SessionClient(ctx, signal);
  const url = `${ctx.baseUrl}${ctx.apiPrefix}/info`;
  try {
    client.config = rooted;
    client.api_map = apiMap;
    const apiInfo = await client.view_api();
    if (typeof apiInfo !== "object" || apiInfo === null) throw new Error("no API info");
    return { config: rooted, apiInfo, apiMap, apiPrefix: ctx.apiPrefix };
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    const status = client.lastAnswer?.status;
    if (status === undefined || status >= 500) {
      const why = status === undefined ? String(client.lastFetchError ?? e) : `HTTP ${status}`;
      throw new ConnectionError(`Could not read ${url}: ${why}`, { cause: client.lastFetchError ?? e, accepted: false });
    }
    throw new UnsupportedBackendError(`${url} did not describe a Gradio API (HTTP ${status})`, { url, status }, { cause: e });
  } finally {
    client.close();
  }
}
