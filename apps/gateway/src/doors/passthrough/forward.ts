/**
 * One proxied exchange, on `http-proxy-3` (maintained; it ends the upstream request when the
 * client goes away, which http-proxy 1.18 misses on Node >= 15.5). Around it: hop-by-hop headers
 * dropped both ways, keep-alive connections per backend, the route's timeout on the wait for
 * response headers and on plain bodies (never on a live event stream, which is only cut after a
 * long silence), event streams marked so no proxy after us buffers or compresses them, a cap on
 * the request body counted as it streams, and failures answered as problems that name neither
 * the backend's address nor a stack.
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from "node:http";
import { Readable, Transform } from "node:stream";
import { ProxyServer } from "http-proxy-3";
import type { Logger } from "pino";
import { HttpProblem } from "../problems.ts";
import type { PassthroughBackend } from "./backends.ts";

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the proxy's own, never passed on. */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade", "expect"];

function dropHopByHop(headers: Record<string, unknown>): void {
  const connection = headers["connection"];
  if (typeof connection === "string") {
    for (const h of connection.split(",")) {
      const name = h.trim().toLowerCase();
      if (name !== "" && name in headers) delete headers[name];
    }
  }
  // `delete` of an absent key still costs (V8 turns the object into a dictionary): look first.
  for (const h of HOP_BY_HOP) if (h in headers) delete headers[h];
}

/** Options of one {@link forward}. */
export interface ForwardOptions {
  backend: PassthroughBackend;
  /** Path and query to request upstream, e.g. `/gradio_api/queue/join?x=1`. */
  path: string;
  /** Headers set on the upstream request (the X-Forwarded-* ones). */
  headers: Record<string, string>;
  /** The body to send instead of the client's stream (a join read to route it). */
  body?: Buffer;
  /** Cap on a streamed body. @unit bytes */
  maxBodyBytes: number;
  /** Bounds the wait for response headers and a plain exchange as a whole. @unit milliseconds */
  timeoutMs: number;
  /** An event stream is cut only after this long without a byte. @unit milliseconds */
  streamIdleMs: number;
  /** Rewrites an upstream Location (a redirect) into the gateway's URL space. */
  rewriteLocation: (location: string) => string;
  /**
   * Replaces a (small, JSON) 200 response body: the one thing read whole rather than streamed.
   * Used for one client bug only (see `passthrough.ts`).
   */
  rewrite?: (body: Buffer) => Buffer;
  /** Sees the response head; may return a watcher of its body (chunks as they pass, then its end). */
  onResponse?: (status: number, headers: IncomingMessage["headers"]) => BodyWatcher | undefined;
  logger: Logger;
}

/** Reads a copy of a response body as it passes. */
export interface BodyWatcher {
  chunk(c: Buffer): void;
  /** The body reached its end. */
  end?(): void;
}

/** How an exchange ended. */
export interface ForwardOutcome {
  /** The upstream answered with this status (undefined: it never answered). */
  status: number | undefined;
  /** The response body reached its end (not cut, not aborted). */
  complete: boolean;
  /** What went wrong, if anything: passed on to the error handler when nothing was sent yet. */
  problem: HttpProblem | undefined;
}

interface Exchange {
  opts: ForwardOptions;
  proxyReq?: ClientRequest;
  failed?: HttpProblem;
  onResponse?: (proxyRes: IncomingMessage) => void;
}

const exchanges = new WeakMap<IncomingMessage, Exchange>();

const proxy = new ProxyServer({ xfwd: false, changeOrigin: true, ignorePath: true });
proxy.on("proxyReq", (proxyReq, req) => {
  const ex = exchanges.get(req);
  if (ex) ex.proxyReq = proxyReq;
});
proxy.on("proxyRes", (proxyRes, req, res) => {
  const ex = exchanges.get(req);
  if (!ex) return;
  dropHopByHop(proxyRes.headers as Record<string, unknown>);
  const location = proxyRes.headers["location"];
  if (typeof location === "string") proxyRes.headers["location"] = ex.opts.rewriteLocation(location);
  if (String(proxyRes.headers["content-type"] ?? "").startsWith("text/event-stream")) {
    // No proxy or CDN after us may buffer or compress an event stream.
    const cc = String(proxyRes.headers["cache-control"] ?? "no-cache");
    proxyRes.headers["cache-control"] = /no-transform/i.test(cc) ? cc : `${cc}, no-transform`;
    proxyRes.headers["x-accel-buffering"] = "no";
    res.once("pipe", () => res.flushHeaders());
  }
  ex.onResponse?.(proxyRes);
});

/** Connection failures that say nothing listens at that address (the box is down). */
const DOWN = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);

/**
 * Proxies one request; resolves when the exchange is over (answered, cut or aborted). Never
 * throws; a failure before anything was sent comes back as `problem` for the caller to answer.
 * @example
 * const out = await forward(req, res, { backend, path: "/config", headers, maxBodyBytes, timeoutMs: 30_000, streamIdleMs: 45_000, rewriteLocation: (l) => l, logger });
 * if (out.problem && !res.headersSent) next(out.problem);
 */
export function forward(req: IncomingMessage, res: ServerResponse, opts: ForwardOptions): Promise<ForwardOutcome> {
  const { backend } = opts;
  const started = Date.now();
  const ex: Exchange = { opts };
  exchanges.set(req, ex);
  backend.open++;
  let status: number | undefined;
  let complete = false;
  let headersTimer: NodeJS.Timeout | undefined;
  let bodyTimer: NodeJS.Timeout | undefined;

  return new Promise<ForwardOutcome>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(headersTimer);
      clearTimeout(bodyTimer);
      backend.open--;
      exchanges.delete(req);
      resolve({ status, complete, problem: ex.failed });
    };
    const fail = (problem: HttpProblem) => {
      if (ex.failed) return;
      ex.failed = problem;
      ex.proxyReq?.destroy();
      if (res.headersSent) res.destroy();
      finish();
    };

    headersTimer = setTimeout(() => {
      opts.logger.warn({ backend: backend.name, timeoutMs: opts.timeoutMs }, "passthrough: no response headers in time");
      fail(new HttpProblem("deadline_exceeded", { detail: `The backend did not answer within ${Math.round(opts.timeoutMs / 1000)} s` }));
    }, opts.timeoutMs);

    ex.onResponse = (proxyRes) => {
      clearTimeout(headersTimer);
      status = proxyRes.statusCode;
      if ((status ?? 0) < 500) backend.markUp(opts.logger, "passthrough answer");
      const watcher = opts.onResponse?.(status ?? 0, proxyRes.headers);
      const stream = String(proxyRes.headers["content-type"] ?? "").startsWith("text/event-stream");
      const arm = (ms: number) => {
        clearTimeout(bodyTimer);
        bodyTimer = setTimeout(() => {
          opts.logger.warn({ backend: backend.name, stream, ms }, stream ? "passthrough: event stream silent too long" : "passthrough: body not done in time");
          proxyRes.destroy();
          fail(new HttpProblem("deadline_exceeded", { detail: "The backend did not finish in time" }));
        }, ms);
      };
      arm(stream ? opts.streamIdleMs : Math.max(1, opts.timeoutMs - (Date.now() - started)));
      if (opts.rewrite) {
        const parts: Buffer[] = [];
        proxyRes.on("data", (c: Buffer) => parts.push(c));
        proxyRes.once("end", () => {
          let body: Buffer = Buffer.concat(parts);
          if (status === 200) {
            try {
              body = opts.rewrite?.(body) ?? body;
            } catch {
              // Not what we expected: pass it on unchanged.
            }
          }
          const out = { ...proxyRes.headers, "content-length": String(body.length) };
          delete out["transfer-encoding"];
          if (!res.headersSent) res.writeHead(status ?? 502, out);
          res.end(body);
        });
      }
      proxyRes.on("data", (chunk: Buffer) => {
        if (stream) arm(opts.streamIdleMs);
        watcher?.chunk(chunk);
      });
      proxyRes.once("end", () => {
        complete = true;
        clearTimeout(bodyTimer);
        watcher?.end?.();
      });
    };

    const headers = req.headers as Record<string, unknown>;
    const chunked = headers["transfer-encoding"] !== undefined;
    dropHopByHop(headers);
    if (opts.body !== undefined) headers["content-length"] = String(opts.body.length);
    // A body to rewrite must arrive uncompressed.
    if (opts.rewrite) delete headers["accept-encoding"];
    Object.assign(headers, opts.headers);
    // A request without a body (most GETs) is piped as it is: no counting stream to allocate.
    const hasBody = chunked || (headers["content-length"] !== undefined && headers["content-length"] !== "0");
    const body =
      opts.body !== undefined
        ? Readable.from([opts.body])
        : hasBody
          ? capped(req, opts.maxBodyBytes, () => fail(new HttpProblem("payload_too_large", { detail: `The body is larger than ${opts.maxBodyBytes} bytes` })))
          : undefined;

    res.once("close", finish);
    proxy.web(req, res, { target: new URL(backend.url + opts.path), agent: backend.agent, ...(body ? { buffer: body } : {}), selfHandleResponse: opts.rewrite !== undefined }, (err: NodeJS.ErrnoException) => {
      if (ex.failed) return finish();
      const code = err.code ?? "";
      if (status === undefined && DOWN.has(code)) backend.markDown(opts.logger, code, "passthrough request");
      else opts.logger.warn({ backend: backend.name, code, err }, "passthrough exchange failed");
      fail(new HttpProblem("connection", { detail: "The backend is unreachable or closed the connection", cause: err }));
    });
  });
}

/** The client's body, counted as it streams; past `max` bytes `onTooLarge` runs and nothing more passes. */
function capped(req: IncomingMessage, max: number, onTooLarge: () => void): Readable {
  let seen = 0;
  let over = false;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (over) return cb();
      seen += chunk.length;
      if (seen > max) {
        over = true;
        onTooLarge();
        return cb();
      }
      cb(null, chunk);
    },
  });
  req.on("error", () => counter.destroy());
  return req.pipe(counter);
}
