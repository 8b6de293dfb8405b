/**
 * Swagger UI at `GET /docs`, in a real Chromium: the OpenAPI document loads, every operation
 * renders as a block, and "Try it out" + "Execute" on `GET /voices` really calls the gateway and
 * shows its answer, as a frontend developer reading the docs would use it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumSkipReason, launchChromium, pngSize } from "./helpers/browser.ts";
import { cloneVoice, startStack, type SavedVoice, type Stack } from "./helpers/stack.ts";

const skip = chromiumSkipReason();

describe.skipIf(skip !== undefined)(`Swagger UI at /docs in Chromium${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let voice: SavedVoice;
  // KEEP_SCREENSHOTS=1 leaves the PNGs in $TMPDIR/browser-shots-kept for a person to look at.
  const keep = process.env["KEEP_SCREENSHOTS"] === "1";
  const shots = keep ? join(tmpdir(), "browser-shots-kept") : mkdtempSync(join(tmpdir(), "browser-shots-"));
  if (keep) mkdirSync(shots, { recursive: true });

  beforeAll(async () => {
    stack = await startStack();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    // CosyVoice3 has no built-in speakers: save one voice so GET /voices has something to list.
    voice = await cloneVoice(stack.gatewayUrl, "Swagger Ann");
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    if (!keep) rmSync(shots, { recursive: true, force: true });
  });

  it("renders one operation block for every operation of /openapi.json", async () => {
    const doc = (await (await fetch(`${stack.gatewayUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).filter((k) => ["get", "post", "put", "patch", "delete", "head"].includes(k)).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();

    const res = await page.goto(`${stack.gatewayUrl}/docs`);
    expect(res?.status()).toBe(200);
    await page.locator(".opblock").first().waitFor();
    await expect.poll(() => page.locator(".opblock").count()).toBe(documented.length);

    const rendered = await page.locator(".opblock").evaluateAll((blocks) =>
      blocks.map((b) => {
        const method = b.querySelector(".opblock-summary-method")?.textContent ?? "";
        const path = b.querySelector(".opblock-summary-path")?.getAttribute("data-path") ?? "";
        return `${method.toUpperCase()} ${path}`;
      }),
    );
    expect(rendered.sort()).toEqual(documented);
    expect(rendered).toEqual(expect.arrayContaining(["GET /voices", "POST /voices", "POST /synthesize", "GET /audio/{id}", "DELETE /voices/{id}"]));
    // Swagger UI lists a document it could not resolve in an errors box: there must be none.
    expect(await page.locator(".errors-wrapper").count()).toBe(0);
    await expect.poll(() => page.title()).toBe("CosyVoice3 gateway");

    const file = join(shots, "swagger-operations.png");
    await page.screenshot({ path: file });
    const png = readFileSync(file);
    expect(pngSize(png)).toEqual({ width: 1280, height: 1000 });
    expect(png.length).toBeGreaterThan(30_000);
  });

  it("runs GET /voices with Try it out + Execute and shows the 200 with the saved voice", async () => {
    const block = page.locator("#operations-voices-listVoices");
    await block.locator(".opblock-summary").first().click();
    await block.locator(".try-out__btn").click();
    const gatewaySaw = page.waitForResponse((r) => r.url() === `${stack.gatewayUrl}/voices` && r.request().method() === "GET");
    await block.locator(".execute").click();
    expect((await gatewaySaw).status()).toBe(200);

    const live = block.locator(".live-responses-table");
    await live.waitFor();
    const row = live.locator("tr.response").first();
    await expect.poll(() => row.locator(".response-col_status").textContent()).toBe("200");
    // The rendered body is the gateway's JSON: the voice saved above, by id, name and kind.
    const shown = (await row.locator(".response-col_description pre.microlight").first().textContent()) ?? "";
    const body = JSON.parse(shown) as { voices: SavedVoice[] };
    expect(body.voices).toContainEqual(expect.objectContaining({ id: voice.id, name: "Swagger Ann", kind: "cloned" }));
    // The request URL Swagger UI shows is the gateway's own origin (no `servers` pointing elsewhere).
    expect(await block.locator(".request-url pre").first().textContent()).toBe(`${stack.gatewayUrl}/voices`);

    const file = join(shots, "swagger-list-voices.png");
    await block.scrollIntoViewIfNeeded();
    await page.screenshot({ path: file, fullPage: false });
    const png = readFileSync(file);
    expect(pngSize(png)).toEqual({ width: 1280, height: 1000 });
    // A blank page compresses to a few kilobytes; a rendered Swagger UI is far more.
    expect(png.length).toBeGreaterThan(30_000);
  });
});
