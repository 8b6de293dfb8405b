/**
 * The article's promise, in a real Chromium: the whole CosyVoice web UI under the gateway's
 * `/cosyvoice/`, against a UI launched without `root_path`. The page boots (its assets, config
 * and theme all load through the prefix), a person types a text, picks 3 s cloning, uploads a
 * prompt, generates, and the output `<audio>` plays; every request the page made stayed under
 * `/cosyvoice/` on the gateway's origin (one stray stylesheet request of Gradio's is redirected
 * back under it).
 */
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readRecord, synthWav } from "@cosyvoice3/testkit";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumSkipReason, launchChromium } from "./helpers/browser.ts";
import { startPassthroughStack, type PassthroughStack } from "./helpers/passthrough-stack.ts";

const skip = chromiumSkipReason();

describe.skipIf(skip !== undefined)(`the CosyVoice web UI through /cosyvoice/ in Chromium${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let stack: PassthroughStack;
  let browser: Browser;
  let page: Page;
  const requested: { url: string; status: number }[] = [];
  const failed: string[] = [];

  beforeAll(async () => {
    stack = await startPassthroughStack();
    browser = await launchChromium();
    page = await browser.newPage();
    page.on("response", (r) => requested.push({ url: r.url(), status: r.status() }));
    page.on("requestfailed", (r) => failed.push(r.url()));
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it("boots from /cosyvoice (redirected to /cosyvoice/) with every asset through the prefix", async () => {
    await page.goto(`${stack.gatewayUrl}/cosyvoice`);
    expect(page.url()).toBe(`${stack.gatewayUrl}/cosyvoice/`);
    await page.getByLabel("输入合成文本").waitFor({ timeout: 30_000 });
    const root = await page.evaluate(() => (window as unknown as { gradio_config?: { root?: string } }).gradio_config?.root);
    expect(root).toBe(`${stack.gatewayUrl}/cosyvoice`);
    const ours = requested.filter((r) => r.url.startsWith(stack.gatewayUrl));
    expect(ours.length).toBeGreaterThan(3);
    // Gradio's frontend asks for its stylesheet once more at `new URL("./assets/...", root)`,
    // which leaves the prefix; the gateway sends that (and only that kind of stray) back under it.
    const outside = ours.filter((r) => !r.url.startsWith(`${stack.gatewayUrl}/cosyvoice/`)).map((r) => `${r.status} ${new URL(r.url).pathname}`);
    expect(outside.filter((r) => r !== "301 /cosyvoice" && !/^307 \/assets\//.test(r))).toEqual([]);
    // What failed through the gateway fails on the UI itself too (gradio's theme names system
    // fonts as files it does not ship): the gateway added no failure of its own.
    for (const r of ours.filter((x) => x.status >= 400)) {
      const direct = await fetch(stack.standin.url + r.url.slice(`${stack.gatewayUrl}/cosyvoice`.length));
      expect({ url: r.url, status: r.status }).toEqual({ url: r.url, status: direct.status });
    }
    // No request of the gateway's origin went unanswered, unless the UI itself cannot answer it
    // (Chromium reports a font it got a 404 for as a failed request, sometimes before its response).
    for (const u of failed.filter((x) => x.startsWith(`${stack.gatewayUrl}/cosyvoice/`) && !requested.some((r) => r.url === x))) {
      const direct = await fetch(stack.standin.url + u.slice(`${stack.gatewayUrl}/cosyvoice`.length));
      expect({ u, direct: direct.status >= 400 }).toEqual({ u, direct: true });
    }
    expect(failed.filter((x) => x.startsWith(stack.gatewayUrl) && !x.startsWith(`${stack.gatewayUrl}/cosyvoice/`))).toEqual([]);
  });

  it("clones a voice from an uploaded prompt and the output <audio> plays", async () => {
    const dir = mkdtempSync(join(tmpdir(), "browser-prompt-"));
    const prompt = join(dir, "prompt.wav");
    writeFileSync(prompt, synthWav({ sampleRate: 24_000, seconds: 3, f0: 180 }));

    await page.getByLabel("输入合成文本").fill("Hello from the browser. This voice came through the gateway.");
    await page.getByLabel("3s极速复刻").check();
    await page.locator("input[type=file]").first().setInputFiles(prompt);
    await page.getByLabel("输入prompt文本").fill("You are a helpful assistant.<|endofprompt|>Hello, this is my voice.");
    // The upload is done when the prompt's player shows up.
    await page.waitForFunction(() => document.querySelectorAll("audio").length >= 1, undefined, { timeout: 30_000 });
    await page.getByRole("button", { name: "生成音频" }).click();

    // The output player: the last <audio> on the page, fed by the streamed HLS playlist.
    const playing = await page
      .waitForFunction(
        () => {
          const all = Array.from(document.querySelectorAll("audio"));
          const out = all[all.length - 1];
          return out !== undefined && all.length >= 2 && out.currentTime > 0.2;
        },
        undefined,
        { timeout: 45_000 },
      )
      .then(
        () => true,
        () => false,
      );
    if (!playing) {
      // What the players and the stream requests looked like, for a failure that says why.
      const players = await page.evaluate(() =>
        Array.from(document.querySelectorAll("audio")).map((a) => ({ src: a.currentSrc, paused: a.paused, readyState: a.readyState, networkState: a.networkState, error: a.error?.code, currentTime: a.currentTime, duration: a.duration })),
      );
      const streams = requested.filter((r) => r.url.includes("/gradio_api/")).map((r) => `${r.status} ${new URL(r.url).pathname}`);
      expect.fail(`the output <audio> did not play within 45 s: ${JSON.stringify({ players, streams, failed })}`);
    }
    const calls = readRecord(stack.standin.record).filter((e) => e.event === "call" && e["fn"] === "generate_audio");
    expect(calls).toHaveLength(1);
    expect((calls[0]?.["inputs"] as Record<string, { value: unknown }>)["mode_checkbox_group"]?.value).toBe("3s极速复刻");
    expect(calls[0]?.["prompt_wav_upload"]).toMatchObject({ sample_rate: 24_000 });
    const streamed = requested.filter((r) => r.url.includes("/cosyvoice/gradio_api/stream/"));
    expect(streamed.length).toBeGreaterThan(0);
    expect(streamed.every((r) => r.status === 200)).toBe(true);
  });
});

describe.skipIf(skip !== undefined)(`with API keys, a browser signs in once${skip ? ` (skipped: ${skip})` : ""}`, () => {
  const KEY = "browser-sign-in-key-0123456789";
  let stack: PassthroughStack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startPassthroughStack({ apiKeys: [KEY] });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it("is sent to sign in, gets an HttpOnly SameSite cookie (not the key), and the UI boots", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const urls: string[] = [];
    page.on("request", (r) => urls.push(r.url()));
    await page.goto(`${stack.gatewayUrl}/cosyvoice/`);
    expect(new URL(page.url()).pathname).toBe("/sign-in");
    await page.getByLabel("API key").fill(KEY);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByLabel("输入合成文本").waitFor({ timeout: 30_000 });
    expect(page.url()).toBe(`${stack.gatewayUrl}/cosyvoice/`);
    const cookies = await context.cookies(stack.gatewayUrl);
    expect(cookies).toEqual([expect.objectContaining({ name: "cv3gw_session", httpOnly: true, sameSite: "Lax" })]);
    expect(cookies[0]?.value).not.toContain(KEY);
    // The key never travelled in a URL.
    expect(urls.filter((u) => u.includes(KEY))).toEqual([]);
    await context.close();
  });
});
