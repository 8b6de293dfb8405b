/**
 * cosyvoice3-client in a real Chromium, as a frontend bundles it: its ES modules (the sources,
 * transpiled by TypeScript on the way, with openapi-fetch through an import map) on a page of the
 * gateway's origin. In the browser it saves a voice from a File, lists voices, streams a synthesis
 * as a web ReadableStream of AAC, and a 404 arrives as an `ApiError` with the typed problem.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { synthWav } from "@cosyvoice3/testkit";
import type { Browser, Page } from "playwright-core";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumSkipReason, launchChromium } from "./helpers/browser.ts";
import { startStack, type Stack } from "./helpers/stack.ts";

const skip = chromiumSkipReason();

const CLIENT = resolve(import.meta.dirname, "../../../packages/client");
const OPENAPI_FETCH = join(CLIENT, "node_modules/openapi-fetch/dist/index.mjs");

/** A client source file as the browser gets it: TypeScript to JavaScript, `.ts` imports kept. */
function transpiled(file: string): string {
  return ts.transpileModule(readFileSync(file, "utf8"), {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
  }).outputText;
}

describe.skipIf(skip !== undefined)(`cosyvoice3-client in Chromium${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    stack = await startStack();
    browser = await launchChromium();
    page = await browser.newPage();
    // Served under the gateway's origin by the browser's own request interception.
    await page.route(`${stack.gatewayUrl}/__client/**`, async (route) => {
      const path = new URL(route.request().url()).pathname.replace(/^\/__client\//, "");
      if (path === "page.html") {
        return route.fulfill({
          contentType: "text/html",
          body: `<!doctype html><title>client</title>
            <script type="importmap">{ "imports": { "openapi-fetch": "/__client/openapi-fetch.mjs" } }</script>
            <script type="module">import * as client from "/__client/src/index.ts"; window.client = client; document.title = "ready";</script>`,
        });
      }
      if (path === "openapi-fetch.mjs") return route.fulfill({ contentType: "text/javascript", body: readFileSync(OPENAPI_FETCH, "utf8") });
      return route.fulfill({ contentType: "text/javascript", body: transpiled(join(CLIENT, path)) });
    });
    await page.goto(`${stack.gatewayUrl}/__client/page.html`);
    await page.waitForFunction(() => document.title === "ready");
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it("saves a voice from a File, lists it, streams a synthesis, and types a 404", async () => {
    const wav = Buffer.from(synthWav({ sampleRate: 24_000, seconds: 3, f0: 175 })).toString("base64");
    const result = await page.evaluate(async (wavBase64) => {
      type Client = typeof import("../../../packages/client/src/index.ts");
      const { createClient, unwrap, ApiError } = (window as unknown as { client: Client }).client;
      const api = createClient({ baseUrl: location.origin });
      const bytes = Uint8Array.from(atob(wavBase64), (c) => c.charCodeAt(0));
      const voice = await api.saveVoice({ audio: new File([bytes], "browser.wav", { type: "audio/wav" }), name: "Browser Bea", promptText: "Hello from the browser." });
      const { voices } = unwrap(await api.GET("/voices"));
      const s = await api.streamSynthesis({ text: "Streamed into a browser. Two sentences.", voice: voice.id, seed: 1 });
      const reader = s.body.getReader();
      const parts: Uint8Array[] = [];
      for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
      const first = parts[0] ?? new Uint8Array();
      let notFound: { isApiError: boolean; slug?: string; status?: number } = { isApiError: false };
      try {
        unwrap(await api.GET("/voices/{id}", { params: { path: { id: "v_0000000000000000000000" } } }));
      } catch (e) {
        notFound = { isApiError: e instanceof ApiError, slug: (e as InstanceType<typeof ApiError>).slug, status: (e as InstanceType<typeof ApiError>).status };
      }
      return {
        voiceId: voice.id,
        listed: voices.some((v) => v.id === voice.id),
        isWebStream: s.body instanceof ReadableStream,
        mimeType: s.mimeType,
        bytes: parts.reduce((n, p) => n + p.length, 0),
        adts: first[0] === 0xff && ((first[1] ?? 0) & 0xf6) === 0xf0,
        audioId: s.audioId,
        notFound,
      };
    }, wav);
    expect(result.voiceId).toMatch(/^v_/);
    expect(result.listed).toBe(true);
    expect(result.isWebStream).toBe(true);
    expect(result.mimeType).toBe("audio/aac");
    expect(result.adts).toBe(true);
    expect(result.bytes).toBeGreaterThan(1_000);
    expect(result.audioId).toMatch(/^a_/);
    expect(result.notFound).toEqual({ isApiError: true, slug: "voice-not-found", status: 404 });
  });
});
