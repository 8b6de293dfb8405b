/**
 * HTTP helpers of the fault suite: fetch with the body read, the problem+json check every error
 * answer must pass, and raw sockets for what only a socket can do (half-sent bodies, malformed
 * request lines, oversized headers, idle connections).
 */
import type { Socket } from "node:net";
import { openSocket, parsePrometheus, synthWav, voiceForm } from "@cosyvoice3/testkit";
import { expect } from "vitest";

/** A response with its body read. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  bytes: Uint8Array;
  /** Parsed when the body is JSON. */
  json: unknown;
}

/**
 * fetch plus the body, parsed when it is JSON.
 * @example const a = await call(gw.url + "/synthesize", jsonPost({ text: "Hi.", voice }));
 */
export async function call(url: string, init?: RequestInit): Promise<Answer> {
  const res = await fetch(url, init);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const text = Buffer.from(bytes).toString("utf8");
  let json: unknown;
  if (/json/.test(res.headers.get("content-type") ?? "") && bytes.length > 0) json = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, bytes, json };
}

/** @example await call(url, jsonPost({ text: "Hi.", voice: "v_..." })) */
export const jsonPost = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

export const PROBLEM_PREFIX = "urn:cosyvoice3-gateway:problem:";

/** The problem body every error answer carries (RFC 9457). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  requestId?: string;
  errors?: { pointer: string; detail: string }[];
}

/**
 * Checks a refusal is a proper problem: the expected status class, `application/problem+json`,
 * a documented `type`, the status repeated in the body, the request id, and nothing that leaks
 * internals (a stack frame, a file path, an upstream URL).
 * @example const p = expectProblem(answer, 400, "malformed-json");
 */
export function expectProblem(a: Answer, status?: number | "4xx", slug?: string): Problem {
  const where = `${a.status} ${a.text.slice(0, 300)}`;
  if (status === "4xx") expect(a.status, where).toBeGreaterThanOrEqual(400);
  if (status === "4xx") expect(a.status, where).toBeLessThan(500);
  else if (status !== undefined) expect(a.status, where).toBe(status);
  expect(a.headers.get("content-type") ?? "", where).toMatch(/^application\/problem\+json/);
  const p = a.json as Problem;
  expect(p.type, where).toMatch(new RegExp(`^${PROBLEM_PREFIX}[a-z-]+$`));
  if (slug !== undefined) expect(p.type, where).toBe(PROBLEM_PREFIX + slug);
  expect(p.status, where).toBe(a.status);
  expect(typeof p.title, where).toBe("string");
  expect(p.requestId, where).toBeTruthy();
  expect(a.headers.get("x-request-id"), where).toBe(p.requestId);
  expectNoLeak(a.text);
  return p;
}

/** No stack frame, absolute file path or loopback URL of the backend in a body. */
export function expectNoLeak(text: string): void {
  expect(text).not.toMatch(/\n\s+at \S+ \(|node_modules|\/tmp\/|\/work\/|\.ts:\d+|https?:\/\/127\.0\.0\.1:\d+/);
}

/** A voice-like WAV prompt the UIs accept (24 kHz, 3 s). */
export const PROMPT_WAV = synthWav({ sampleRate: 24_000, seconds: 3, f0: 140 });

/** A multipart body for POST /voices, and a raw TCP connection (both from the testkit). */
export { openSocket, voiceForm } from "@cosyvoice3/testkit";

/**
 * Saves a cloned voice (with a transcript, so its default mode is clone) and returns its id.
 * @example const voice = await cloneVoice(gw.url);
 */
export async function cloneVoice(base: string, name = "Fault"): Promise<string> {
  const a = await call(`${base}/voices`, { method: "POST", body: voiceForm({ audio: PROMPT_WAV, name, promptText: "Hello, this is my voice." }) });
  expect(a.status, a.text).toBe(201);
  return (a.json as { id: string }).id;
}


/** What came back on a raw socket. */
export interface RawAnswer {
  /** Everything received, latin1. */
  raw: string;
  status: number | undefined;
  /** True when the server closed the connection. */
  closed: boolean;
}

/**
 * Collects a raw socket's answer until the server closes it, a complete response arrived
 * (Content-Length satisfied), or `waitMs` passed.
 */
export function readRaw(s: Socket, waitMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    let raw = "";
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
      resolve({ raw, status: m ? Number(m[1]) : undefined, closed });
    };
    const timer = setTimeout(finish, waitMs);
    s.on("data", (b: Buffer) => {
      raw += b.toString("latin1");
      const head = raw.indexOf("\r\n\r\n");
      const len = /\r\ncontent-length: (\d+)/i.exec(raw);
      if (head >= 0 && len && raw.length - head - 4 >= Number(len[1])) finish();
    });
    s.on("close", () => {
      closed = true;
      finish();
    });
    s.on("error", () => undefined);
  });
}

/** The JSON body of a raw answer (after the head), or undefined. */
export function rawJson(a: RawAnswer): unknown {
  const i = a.raw.indexOf("\r\n\r\n");
  if (i < 0) return undefined;
  try {
    return JSON.parse(a.raw.slice(i + 4));
  } catch {
    return undefined;
  }
}

/**
 * Sends raw bytes as one request and reads the answer.
 * @example const a = await rawRequest(gw.url, "BREW /voices HTTP/1.1\r\nHost: x\r\n\r\n");
 */
export async function rawRequest(url: string, data: string | Buffer, waitMs = 10_000): Promise<RawAnswer> {
  const s = await openSocket(url);
  const answer = readRaw(s, waitMs);
  s.write(data);
  const a = await answer;
  s.destroy();
  return a;
}

/**
 * Waits until the gateway holds no backend slot (its `/metrics` shows no job running or waiting
 * on any backend), and returns how long that took. The stand-in records a job cancelled as soon
 * as gradio stops it; the gateway frees the slot only once its own clean-up of the upstream job
 * (the cancel call) is done, a moment later.
 * @example await gatewayHoldsNoSlot(stack.gw.url);
 */
export async function gatewayHoldsNoSlot(base: string, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const jobs = parsePrometheus(await (await fetch(`${base}/metrics`)).text()).filter((s) => s.name === "cosyvoice_gateway_backend_jobs");
    if (jobs.length > 0 && jobs.every((s) => s.value === 0)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`the gateway still holds a backend slot after ${timeoutMs} ms: ${JSON.stringify(jobs)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
