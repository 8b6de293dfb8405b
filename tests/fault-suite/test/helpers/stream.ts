/**
 * A POST /synthesize made with node:http, so a test can watch the body arrive, tell a clean end
 * (the chunked body's last chunk) from a cut connection, and hang up at a chosen moment.
 */
import { request, type IncomingHttpHeaders } from "node:http";

/** How a response body ended. */
export interface BodyEnd {
  /** True when the body ended properly; false when the connection was cut before the end. */
  clean: boolean;
  bytes: Buffer;
  status: number | undefined;
  headers: IncomingHttpHeaders | undefined;
  error?: string;
}

/** A request in flight. */
export interface InFlight {
  /** Resolves with the status and headers once the response head arrived. */
  head: Promise<{ status: number; headers: IncomingHttpHeaders }>;
  /** Resolves once `n` body bytes arrived (or the body ended first). */
  bytes(n: number): Promise<void>;
  /** Resolves when the exchange is over, however it ended. */
  done: Promise<BodyEnd>;
  /** Hangs up (the client disconnects). */
  hangUp(): void;
}

/**
 * Starts `POST path` with a JSON body and follows the answer.
 * @example const r = postJson(gw.url, "/synthesize", { text, voice, stream: true }); await r.bytes(1); r.hangUp();
 */
export function postJson(base: string, path: string, body: unknown): InFlight {
  const payload = JSON.stringify(body);
  const req = request(base + path, {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
  });
  const parts: Buffer[] = [];
  let received = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  let status: number | undefined;
  let headers: IncomingHttpHeaders | undefined;
  let settle!: (end: BodyEnd) => void;
  const done = new Promise<BodyEnd>((resolve) => (settle = resolve));
  let settled = false;
  const finish = (clean: boolean, error?: string) => {
    if (settled) return;
    settled = true;
    for (const w of waiters) w.resolve();
    settle({ clean, bytes: Buffer.concat(parts), status, headers, ...(error !== undefined ? { error } : {}) });
  };
  const head = new Promise<{ status: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
    req.on("response", (res) => {
      status = res.statusCode ?? 0;
      headers = res.headers;
      resolve({ status, headers });
      res.on("data", (b: Buffer) => {
        parts.push(b);
        received += b.length;
        for (const w of [...waiters]) {
          if (received < w.n) continue;
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      });
      res.on("end", () => finish(true));
      res.on("error", (err) => finish(false, err.message));
      res.on("close", () => finish(res.complete, res.complete ? undefined : "closed before the end"));
    });
    req.on("error", (err) => {
      reject(err);
      finish(false, err.message);
    });
  });
  head.catch(() => undefined);
  req.end(payload);
  return {
    head,
    bytes: (n) => (received >= n || settled ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
    done,
    hangUp: () => req.destroy(),
  };
}
