/**
 * The playground's "Narrate a chapter" tab in Chromium against the real gateway and stand-in:
 * it submits a chapter as a job, shows the segments' progress from the job's event stream, then
 * plays the narration with its WebVTT captions loaded as a track (one cue per sentence).
 */
import { synthWav } from "@cosyvoice3/testkit";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumSkipReason, launchChromium } from "./helpers/browser.ts";
import { startStack, type Stack } from "./helpers/stack.ts";

const skip = chromiumSkipReason();
const CHAPTER = Array.from({ length: 6 }, (_, i) => `This is sentence number ${i + 1} of the chapter.`).join(" ");

describe.skipIf(skip !== undefined)("the playground's narrate tab in Chromium", { timeout: 240_000 }, () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    stack = await startStack({}, { variant: "cv3-en" });
    const form = new FormData();
    form.set("name", "Narrator");
    form.set("promptText", "Hello, this is my voice.");
    form.set("audio", new Blob([new Uint8Array(synthWav({ sampleRate: 24_000, seconds: 3, f0: 180 }))], { type: "audio/wav" }), "me.wav");
    expect((await fetch(`${stack.gatewayUrl}/voices`, { method: "POST", body: form })).status).toBe(201);
    browser = await launchChromium([]);
    page = await (await browser.newContext({ viewport: { width: 1000, height: 1300 } })).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it("narrates a chapter: progress, then the audio with one caption cue per sentence", async () => {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${stack.gatewayUrl}/`);
    await page.waitForSelector("body[data-ready]");
    await page.getByLabel("Voice", { exact: true }).selectOption({ label: "Narrator" });
    await page.getByRole("tab", { name: "Narrate a chapter" }).click();
    expect(await page.locator("#speak-panel").isHidden()).toBe(true);
    await page.getByLabel("Chapter", { exact: true }).fill(CHAPTER);
    await page.getByLabel("Format").selectOption("mp3");
    await page.getByRole("button", { name: "Narrate", exact: true }).click();
    await page.waitForFunction(() => /^(running|queued): \d+ of \d+ segments|^Done/.test(document.getElementById("narrate-status")!.textContent ?? ""));
    await page.waitForFunction(() => /^Done|failed|Refused/.test(document.getElementById("narrate-status")!.textContent ?? ""), undefined, { timeout: 180_000 });
    expect(await page.textContent("#narrate-status")).toMatch(/^Done: \d+\.\d s of audio in \d+ segments\.$/);
    expect(await page.getAttribute("#narrate-player", "src")).toMatch(/^\/audio\/a_/);
    // The browser decodes the MP3 and loads the captions track.
    const state = await page.evaluate(async () => {
      const player = document.getElementById("narrate-player") as HTMLAudioElement;
      if (player.readyState < 1) await new Promise((r) => player.addEventListener("loadedmetadata", r, { once: true }));
      const track = player.textTracks[0]!;
      track.mode = "showing";
      for (let i = 0; i < 50 && (track.cues?.length ?? 0) === 0; i++) await new Promise((r) => setTimeout(r, 100));
      const cues = Array.from(track.cues ?? [], (c) => c as VTTCue);
      return { duration: player.duration, cues: cues.map((c) => ({ start: c.startTime, end: c.endTime, text: c.text })) };
    });
    expect(state.cues.map((c) => c.text)).toEqual(CHAPTER.split(/(?<=\.) /));
    expect(Math.abs(state.cues.at(-1)!.end - state.duration)).toBeLessThan(0.15);
    expect(await page.locator("#narrate-jobs li").count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });
});
