/**
 * A frontend served from another origin calls the gateway's REST API from JavaScript in a real
 * Chromium: with its origin in CORS_ORIGINS (and an API key) the preflighted calls succeed and
 * the page can read the body and the exposed headers; from an origin not listed the browser
 * refuses to hand over the answer.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumSkipReason, launchChromium } from "./helpers/browser.ts";
import { cloneVoice, startStack, type Stack } from "./helpers/stack.ts";

const skip = chromiumSkipReason();

const KEY = "browser-frontend-key-0123456789abcdef";

/** A tiny static server standing in for the frontend's own origin. */
async function servePage(): Promise<{ origin: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>frontend</title><p>frontend</p>");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** What the page's script reports back. */
interface PageResult {
  ok: boolean;
  status?: number;
  requestId?: string | null;
  body?: unknown;
  error?: string;
}

describe.skipIf(skip !== undefined)(`a frontend on another origin, in Chromium${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let stack: Stack;
  let browser: Browser;
  let allowed: { origin: string; server: Server };
  let other: { origin: string; server: Server };

  beforeAll(async () => {
    allowed = await servePage();
    other = await servePage();
    stack = await startStack({ corsOrigins: [allowed.origin], apiKeys: [KEY] });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    allowed?.server.close();
    other?.server.close();
  });

  const callFrom = async (origin: string, path: string, init: { method: string; body?: unknown }): Promise<PageResult> => {
    const page = await browser.newPage();
    try {
      await page.goto(`${origin}/`);
      return await page.evaluate(
        async ({ url, key, method, body }) => {
          try {
            const res = await fetch(url, {
              method,
              headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
              ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            });
            return { ok: true, status: res.status, requestId: res.headers.get("x-request-id"), body: await res.json() };
          } catch (e) {
            return { ok: false, error: String(e) };
          }
        },
        { url: `${stack.gatewayUrl}${path}`, key: KEY, method: init.method, body: init.body },
      );
    } finally {
      await page.close();
    }
  };

  let voiceId = "";

  it("an allowed origin lists voices with a bearer key (preflighted) and reads the body and X-Request-Id", async () => {
    voiceId = (await cloneVoice(stack.gatewayUrl, "Cors Ann", { authorization: `Bearer ${KEY}` })).id;
    const r = await callFrom(allowed.origin, "/voices", { method: "GET" });
    expect(r.ok).toBe(true);
    expect(r.status).toBe(200);
    expect(r.requestId).toMatch(/\S+/);
    expect(JSON.stringify(r.body)).toContain(voiceId);
  });

  it("an allowed origin synthesizes with a JSON POST and gets the clip's id", async () => {
    const r = await callFrom(allowed.origin, "/synthesize", { method: "POST", body: { text: "Hello from the frontend.", voice: voiceId } });
    expect(r.ok).toBe(true);
    expect(r.status).toBe(201);
    expect((r.body as { url?: string }).url).toMatch(/^\/audio\/a_/);
  });

  it("an origin not listed gets nothing: the browser refuses the answer", async () => {
    const r = await callFrom(other.origin, "/voices", { method: "GET" });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/TypeError|Failed to fetch/);
  });
});
