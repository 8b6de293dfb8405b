/**
 * A new user in Swagger UI, in a real Chromium: opens POST /synthesize, clicks "Try it out",
 * edits only the voice id in the example body Swagger UI offers (the document's first example),
 * clicks "Execute" and gets a 201 with the clip's id; the clip then plays from /audio/{id}.
 * Against the embedded default's UI (cv3-en, CosyVoice3).
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumSkipReason, launchChromium } from "./helpers/browser.ts";
import { cloneVoice, startStack, type SavedVoice, type Stack } from "./helpers/stack.ts";

const skip = chromiumSkipReason();

/** The placeholder the document's examples carry (apps/gateway/src/doors/openapi/examples.ts). */
const PLACEHOLDER = "v_REPLACE_WITH_YOUR_VOICE_ID";

describe.skipIf(skip !== undefined)(`Swagger UI: Try it out on POST /synthesize${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let voice: SavedVoice;

  beforeAll(async () => {
    stack = await startStack({}, { variant: "cv3-en", model: "cosyvoice3" });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    voice = await cloneVoice(stack.gatewayUrl, "Swagger Ann");
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it("with only the voice id edited, Execute answers 201", async () => {
    await page.goto(`${stack.gatewayUrl}/docs`);
    const block = page.locator("#operations-synthesis-synthesize");
    await block.waitFor();
    await block.locator(".opblock-summary").first().click();
    await block.locator(".try-out__btn").click();

    const editor = block.locator("textarea.body-param__text");
    await editor.waitFor();
    const offered = await editor.inputValue();
    // Swagger UI offers the document's example, not a body it made up from the schema.
    expect(JSON.parse(offered)).toEqual({ text: "Hello! This is my cloned voice speaking.", voice: PLACEHOLDER, seed: 42 });
    await editor.fill(offered.replace(PLACEHOLDER, voice.id));

    const gatewaySaw = page.waitForResponse((r) => r.url() === `${stack.gatewayUrl}/synthesize` && r.request().method() === "POST");
    await block.locator(".execute").click();
    const response = await gatewaySaw;
    expect(response.status(), await response.text()).toBe(201);
    // Swagger UI asks for what the first 2xx response documents, or anything: never audio only.
    expect(response.request().headers()["accept"]).not.toMatch(/^audio\//);

    const row = block.locator(".live-responses-table tr.response").first();
    await expect.poll(() => row.locator(".response-col_status").textContent()).toBe("201");
    const shown = JSON.parse((await row.locator(".response-col_description pre.microlight").first().textContent()) ?? "{}") as { id: string; url: string; voice: string; mode: string };
    expect(shown).toMatchObject({ voice: voice.id, mode: "clone" });
    const audio = await fetch(stack.gatewayUrl + shown.url);
    expect(audio.status).toBe(200);
    expect(audio.headers.get("content-type")).toBe("audio/wav");
  });
});
