/**
 * `GET /audio/:id` in a real Chromium `<audio>` element, on a page of another origin (as a
 * frontend would embed it): the metadata loads, the duration matches the API's `durationMs`,
 * seeking works, the media requests are Range requests answered 206 with the clip's type, and
 * muted playback starts and advances.
 */
import type { Browser, Page, Response } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumSkipReason, launchChromium } from "./helpers/browser.ts";
import { cloneVoice, startStack, synthesize, type Stack, type SynthesisCreated } from "./helpers/stack.ts";

const skip = chromiumSkipReason();

/** What the page reports about its `<audio>` element. */
interface AudioState {
  error: { code: number; message: string } | null;
  readyState: number;
  duration: number;
  currentTime: number;
  paused: boolean;
  events: string[];
}

describe.skipIf(skip !== undefined)(`<audio> playing GET /audio/:id in Chromium${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let clip: SynthesisCreated;
  let src: string;
  /** Every response the page got for the clip, in order. */
  const media: Response[] = [];

  beforeAll(async () => {
    stack = await startStack();
    const voice = await cloneVoice(stack.gatewayUrl, "Audio Ann");
    clip = await synthesize(stack.gatewayUrl, voice.id, "Good morning. This clip is played by a real browser, so it has to be long enough to seek in.");
    src = `${stack.gatewayUrl}${clip.url}`;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on("response", (r) => {
      if (r.url() === src) media.push(r);
    });
    // An about:blank page (an opaque origin, not the gateway's): the clip is a cross-origin
    // no-cors media load, exactly as on a frontend served from elsewhere.
    await page.setContent(`<!doctype html><title>player</title>
      <audio id="a" src="${src}" preload="auto"></audio>
      <script>
        const a = document.getElementById("a");
        window.audioEvents = [];
        for (const e of ["loadedmetadata", "canplay", "seeking", "seeked", "playing", "timeupdate", "error"]) {
          a.addEventListener(e, () => window.audioEvents.push(e));
        }
      </script>`);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  const state = (): Promise<AudioState> =>
    page.evaluate(() => {
      const a = document.getElementById("a") as HTMLAudioElement;
      return {
        error: a.error ? { code: a.error.code, message: a.error.message } : null,
        readyState: a.readyState,
        duration: a.duration,
        currentTime: a.currentTime,
        paused: a.paused,
        events: (window as unknown as { audioEvents: string[] }).audioEvents,
      };
    });

  it("loads the metadata with a duration within 5% of the API's durationMs", async () => {
    // Waits for the element to settle either way, so a refused load fails with its reason.
    await page.waitForFunction(() => {
      const a = document.getElementById("a") as HTMLAudioElement;
      return a.error !== null || a.readyState >= HTMLMediaElement.HAVE_METADATA;
    });
    const s = await state();
    expect(s.error, `the <audio> element refused the clip: ${JSON.stringify(s.error)}`).toBeNull();
    expect(s.events).toContain("loadedmetadata");
    expect(clip.durationMs).toBeGreaterThan(1_000);
    expect(Math.abs(s.duration * 1000 - clip.durationMs)).toBeLessThanOrEqual(clip.durationMs * 0.05);
  });

  it("was fetched with Range requests answered 206, the clip's Content-Type and Accept-Ranges", async () => {
    expect(media.length).toBeGreaterThan(0);
    const ranged = [];
    for (const r of media) {
      const range = await r.request().headerValue("range");
      if (range !== null && r.status() === 206) ranged.push({ range, headers: await r.allHeaders() });
    }
    expect(ranged.length, `statuses: ${media.map((r) => r.status()).join(",")}`).toBeGreaterThan(0);
    for (const { headers } of ranged) {
      expect(headers["content-type"]).toBe(clip.mimeType);
      expect(headers["accept-ranges"]).toBe("bytes");
      expect(headers["content-range"]).toMatch(new RegExp(`^bytes \\d+-\\d+/${clip.bytes}$`));
    }
  });

  it("seeks to the middle: currentTime moves there and seeked fires", async () => {
    const middle = clip.durationMs / 2000;
    await page.evaluate(
      (t) =>
        new Promise<void>((resolve, reject) => {
          const a = document.getElementById("a") as HTMLAudioElement;
          const fail = () => reject(new Error(`media error ${a.error?.code}: ${a.error?.message}`));
          // An element that already failed never seeks: fail now rather than wait for the timeout.
          if (a.error) return fail();
          a.addEventListener("seeked", () => resolve(), { once: true });
          a.addEventListener("error", fail, { once: true });
          a.currentTime = t;
        }),
      middle,
    );
    const s = await state();
    expect(s.error).toBeNull();
    expect(s.events).toEqual(expect.arrayContaining(["seeking", "seeked"]));
    expect(Math.abs(s.currentTime - middle)).toBeLessThan(0.05);
  });

  it("plays muted: play() resolves and the position advances past the seek point", async () => {
    const from = (await state()).currentTime;
    await page.evaluate(async () => {
      const a = document.getElementById("a") as HTMLAudioElement;
      a.muted = true;
      await a.play();
    });
    await page.waitForFunction((t) => (document.getElementById("a") as HTMLAudioElement).currentTime > t + 0.2, from);
    const s = await state();
    expect(s.error).toBeNull();
    expect(s.paused).toBe(false);
    expect(s.events).toContain("playing");
  });
});
