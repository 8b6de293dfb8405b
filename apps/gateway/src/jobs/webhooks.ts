/**
 * Job webhooks: `job.succeeded`, `job.failed` and `job.canceled` POSTed to the job's
 * `callbackUrl`, signed per Standard Webhooks (webhook-id, webhook-timestamp and
 * webhook-signature `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, by the `standardwebhooks`
 * library), retried with jittered exponential backoff until a 2xx or `maxAttempts`.
 *
 * No SSRF: only http(s), and unless `allowPrivate`, never an address on loopback, a private or
 * link-local network, CGNAT, multicast or unspecified. The check is made when the job is
 * submitted (a clear 400) and again on every delivery at connect time through the socket's own
 * DNS lookup, so a name that later resolves to 127.0.0.1 (DNS rebinding) is refused too.
 * Redirects are not followed.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP } from "node:net";
import type { Logger } from "pino";
import { Webhook } from "standardwebhooks";

/** Options of {@link createWebhooks}. */
export interface WebhookOptions {
  /** A `whsec_` base64 secret (Standard Webhooks), or any string, used as raw key bytes. */
  secret: string;
  /** @default false */
  allowPrivate?: boolean;
  /** @default 6 */
  maxAttempts?: number;
  /** Wait before the first retry; doubles each time, ±20 % jitter. @default 1_000 @unit milliseconds */
  firstRetryMs?: number;
  /** Deadline of one delivery. @default 10_000 @unit milliseconds */
  timeoutMs?: number;
  logger: Logger;
}

/** One event to deliver. */
export interface WebhookEvent {
  type: "job.succeeded" | "job.failed" | "job.canceled";
  /** The job as `GET /jobs/{id}` shows it. */
  data: unknown;
  /** The job id: with the type it makes the webhook-id, the same on every retry (receivers dedupe by it). */
  jobId: string;
}

const BLOCKED = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.0.0.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) BLOCKED.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8], ["64:ff9b::", 96]] as const) BLOCKED.addSubnet(net, bits, "ipv6");

/**
 * True when a webhook may not go to this address (loopback, private, link-local...).
 * @example isPrivateAddress("10.1.2.3") // true
 */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return BLOCKED.check(mapped[1], "ipv4");
  const family = isIP(address);
  if (family === 0) return true;
  return BLOCKED.check(address, family === 4 ? "ipv4" : "ipv6");
}

/**
 * Why a callback URL is refused, or undefined when it may be used. Resolves the host name.
 * @example await callbackUrlProblem("http://127.0.0.1:9/hook", { allowPrivate: false }) // "callbackUrl must not point to ..."
 */
export async function callbackUrlProblem(raw: string, opts: { allowPrivate: boolean }): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "callbackUrl must be an absolute http(s) URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "callbackUrl must be http or https";
  if (url.username !== "" || url.password !== "") return "callbackUrl must not carry credentials";
  if (opts.allowPrivate) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await new Promise<LookupAddress[]>((res, rej) => dnsLookup(host, { all: true }, (e, a) => (e ? rej(e) : res(a))))).map((a) => a.address);
  } catch {
    return `callbackUrl's host ${host} does not resolve`;
  }
  const bad = addresses.find(isPrivateAddress);
  return bad ? `callbackUrl must not point to a loopback or private address (${host} is ${bad}); set WEBHOOK_ALLOW_PRIVATE=true to allow it` : undefined;
}

/** Delivers webhooks; see {@link createWebhooks}. */
export interface Webhooks {
  /** Delivers with retries; resolves with the outcome (never rejects). */
  deliver(url: string, event: WebhookEvent, signal?: AbortSignal): Promise<{ delivered: boolean; attempts: number }>;
}

/**
 * @example
 * const hooks = createWebhooks({ secret: "whsec_...", logger });
 * await hooks.deliver(job.request.callbackUrl, { type: "job.succeeded", jobId: job.id, data: view });
 */
export function createWebhooks(opts: WebhookOptions): Webhooks {
  const signer = opts.secret.startsWith("whsec_") ? new Webhook(opts.secret) : new Webhook(Buffer.from(opts.secret, "utf8").toString("base64"));
  const maxAttempts = opts.maxAttempts ?? 6;
  const first = opts.firstRetryMs ?? 1_000;
  const timeoutMs = opts.timeoutMs ?? 10_000;

  // The socket's own lookup: the address it connects to is the one checked.
  const guardedLookup = (hostname: string, options: object, callback: (...a: unknown[]) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err);
      const list = addresses as LookupAddress[];
      const bad = opts.allowPrivate ? undefined : list.find((a) => isPrivateAddress(a.address));
      if (bad) return callback(Object.assign(new Error(`webhook host ${hostname} resolves to the private address ${bad.address}`), { code: "EPRIVATE" }));
      if ((options as { all?: boolean }).all) return callback(null, list);
      const a = list[0];
      return a ? callback(null, a.address, a.family) : callback(new Error("no address"));
    });
  };

  function post(url: URL, body: string, headers: Record<string, string>, signal?: AbortSignal): Promise<number> {
    const literal = url.hostname.replace(/^\[|\]$/g, "");
    if (!opts.allowPrivate && isIP(literal) && isPrivateAddress(literal)) return Promise.reject(new Error(`webhook address ${literal} is private`));
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        {
          method: "POST",
          headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), "user-agent": "cosyvoice3-gateway-webhooks", ...headers },
          lookup: guardedLookup as never,
          timeout: timeoutMs,
          ...(signal ? { signal } : {}),
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error("webhook delivery timed out")));
      req.on("error", reject);
      req.end(body);
    });
  }

  const sleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
    });

  return {
    async deliver(raw, event, signal) {
      const url = new URL(raw);
      const msgId = `msg_${event.jobId}_${event.type.slice(4)}`;
      let attempts = 0;
      while (attempts < maxAttempts && !signal?.aborted) {
        attempts++;
        const now = new Date();
        const body = JSON.stringify({ type: event.type, timestamp: now.toISOString(), data: event.data });
        const headers = {
          "webhook-id": msgId,
          "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
          "webhook-signature": signer.sign(msgId, now, body),
        };
        try {
          const status = await post(url, body, headers, signal);
          if (status >= 200 && status < 300) return { delivered: true, attempts };
          opts.logger.warn({ job: event.jobId, status, attempts }, "webhook refused; retrying");
        } catch (err) {
          opts.logger.warn({ job: event.jobId, err: (err as Error).message, attempts }, "webhook delivery failed; retrying");
        }
        if (attempts < maxAttempts) await sleep(first * 2 ** (attempts - 1) * (0.8 + Math.random() * 0.4), signal);
      }
      opts.logger.error({ job: event.jobId, attempts }, "webhook given up");
      return { delivered: false, attempts };
    },
  };
}
