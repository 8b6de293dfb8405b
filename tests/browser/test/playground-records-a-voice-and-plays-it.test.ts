/**
 * The playground page at `/` in Debian's Chromium against the real gateway and stand-in: it
 * records a voice from a fake microphone (Chromium plays a WAV of speech made with espeak-ng as
 * the capture device), saves it through `POST /voices` as a WAV the gateway accepts, generates
 * with it, and its `<audio>` element plays the AAC stream through MediaSource while it arrives;
 * the download link holds the clip. With API keys configured it asks for the key once and keeps
 * it for the tab. `PLAYGROUND_SCREENSHOT=docs/playground.png` refreshes the README's picture.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { defaultConfig, startGateway, type RunningGateway } from "cosyvoice3-gateway";
import { readRecord } from "@cosyvoice3/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumSkipReason, launchChromium, pngSize } from "./helpers/browser.ts";
import { startStack, type Stack } from "./helpers/stack.ts";

const skip = chromiumSkipReason();

const SPOKEN = "Hello, this is my voice. I am reading this sentence for the playground test.";
const KEY = "playground-test-key-0123456789ab";

describe.skipIf(skip !== undefined)(`the playground in Chromium${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let dir: string;
  const synthesizeTypes: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "playground-"));
    const speech = join(dir, "speech.wav");
    execFileSync("espeak-ng", ["-s", "140", "-w", speech, SPOKEN]);
    // The cv3-en UI (what npm start runs: every CosyVoice3 mode), chunks 800 ms apart: the stream
    // lasts long enough to hear it start before it ends.
    stack = await startStack({}, { variant: "cv3-en", chunkDelayMs: 800 });
    browser = await launchChromium(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", `--use-file-for-fake-audio-capture=${speech}`]);
    context = await browser.newContext({ permissions: ["microphone"], viewport: { width: 1000, height: 1300 } });
    page = await context.newPage();
    page.on("response", (r) => {
      if (r.url().endsWith("/synthesize")) synthesizeTypes.push(`${r.status()} ${r.headers()["content-type"] ?? ""}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("loads without errors and offers the modes and instruct controls GET /capabilities lists", async () => {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${stack.gatewayUrl}/`);
    await page.waitForSelector("body[data-ready]");
    expect(errors).toEqual([]);
    const modes = await page.locator("#mode option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    const caps = (await (await fetch(`${stack.gatewayUrl}/capabilities`)).json()) as { modes: string[]; instruct: { controls: Record<string, string[]> } };
    expect(modes).toEqual(["", ...caps.modes]);
    expect(modes).toContain("instruct");
    const dialects = await page.locator("#dialect option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(dialects).toEqual(["", ...(caps.instruct.controls["dialect"] ?? [])]);
    expect(dialects).toContain("sichuan");
    expect(await page.getByLabel("Dialect").isDisabled()).toBe(false);
  });

  it("lines up every field of a form in one column, and names no key when none is set", async () => {
    // Each field's left edge, as the browser lays it out: a long label ("What the prompt says")
    // once pushed its input about 40 px right of the others.
    const lefts = await page.evaluate(() =>
      Object.fromEntries(
        ["voice-name", "voice-prompt-text", "voice-file", "record-start", "mode", "text", "speed"].map((id) => [id, Math.round(document.getElementById(id)!.getBoundingClientRect().left)]),
      ),
    );
    const first = lefts["voice-name"]!;
    expect(first).toBeGreaterThan(100); // beside its label, not under it (a wide window)
    for (const [id, left] of Object.entries(lefts)) expect(Math.abs(left - first), `${id} at ${left} px, the name field at ${first} px`).toBeLessThanOrEqual(1);
    // No API_KEYS here: no key was asked for, so the page must not speak of one.
    const help = await page.textContent("#voice-help");
    expect(help).toBe("Built-in speakers of the model, then the saved voices.");
    expect(await page.evaluate(() => document.body.innerText)).not.toMatch(/this key/);
  });

  it("records a voice from the (fake) microphone and saves it", async () => {
    await page.getByLabel("Name").fill("Mic voice");
    await page.getByLabel("What the prompt says").fill(SPOKEN);
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await page.waitForTimeout(4_000);
    await page.getByRole("button", { name: "Stop recording" }).click();
    await page.waitForFunction(() => /^Recorded|could not/.test(document.getElementById("voice-status")!.textContent ?? ""));
    expect(await page.textContent("#voice-status")).toMatch(/^Recorded \d\.\d s/);
    await page.getByRole("button", { name: "Save voice" }).click();
    await page.waitForFunction(() => /Saved|Not saved/.test(document.getElementById("voice-status")!.textContent ?? ""));
    expect(await page.textContent("#voice-status")).toMatch(/^Saved "Mic voice" \(v_/);
    const res = await fetch(`${stack.gatewayUrl}/voices`);
    const { voices } = (await res.json()) as { voices: { id: string; name: string; promptText?: string; audio?: { mimeType: string; durationMs: number; sampleRate: number } }[] };
    const saved = voices.find((v) => v.name === "Mic voice");
    expect(saved).toMatchObject({ promptText: SPOKEN, audio: { mimeType: "audio/wav" } });
    expect(saved!.audio!.durationMs).toBeGreaterThan(3_000);
    expect(saved!.audio!.sampleRate).toBeGreaterThanOrEqual(16_000);
    expect(await page.locator("#voice-select").inputValue()).toBe(saved!.id);
  });

  it("uploads a voice from a file too, and the list offers both to pick from", async () => {
    const file = join(dir, "upload.wav");
    execFileSync("espeak-ng", ["-w", file, "An uploaded prompt for the playground."]);
    await page.getByLabel("Name").fill("Uploaded voice");
    await page.getByLabel("What the prompt says").fill("An uploaded prompt for the playground.");
    await page.getByLabel("Prompt audio file").setInputFiles(file);
    await page.getByRole("button", { name: "Save voice" }).click();
    await page.waitForFunction(() => /Saved "Uploaded|Not saved/.test(document.getElementById("voice-status")!.textContent ?? ""));
    expect(await page.textContent("#voice-status")).toMatch(/^Saved "Uploaded voice"/);
    const names = await page.locator("#voice-select option").allTextContents();
    expect(names).toEqual(expect.arrayContaining(["Mic voice", "Uploaded voice"]));
    await page.getByLabel("Voice", { exact: true }).selectOption({ label: "Mic voice" });
  });

  it("generates with it and the audio element plays the stream as it arrives", async () => {
    await page.getByLabel("Text", { exact: true }).fill("Good morning. This is the playground speaking with the recorded voice. It plays while it streams.");
    await page.getByLabel("Dialect").selectOption("sichuan");
    await page.getByLabel("Emotion").selectOption("happy");
    // When the element starts playing, and when the page says the stream has ended.
    await page.evaluate(() => {
      const w = window as unknown as { playingAt?: number; doneAt?: number };
      document.getElementById("player")!.addEventListener("playing", () => (w.playingAt ??= performance.now()));
      const status = document.getElementById("speak-status")!;
      new MutationObserver(() => {
        if (/^(Done|Failed|Not generated)/.test(status.textContent ?? "")) w.doneAt ??= performance.now();
      }).observe(status, { childList: true, characterData: true, subtree: true });
    });
    await page.getByRole("button", { name: "Generate" }).click();
    await page.waitForFunction(() => /^(Done|Failed|Not generated)/.test(document.getElementById("speak-status")!.textContent ?? ""), null, { timeout: 30_000 });
    expect(await page.textContent("#speak-status")).toMatch(/^Done in \d+\.\d s \(audio id a_/);
    const times = await page.evaluate(() => {
      const w = window as unknown as { playingAt?: number; doneAt?: number };
      return { playingAt: w.playingAt, doneAt: w.doneAt };
    });
    expect(times.playingAt, "the element never played").toBeDefined();
    // Playback began at least one chunk interval before the last byte arrived.
    expect(times.doneAt! - times.playingAt!).toBeGreaterThan(700);
    await page.waitForFunction(() => (document.getElementById("player") as HTMLAudioElement).currentTime > 0.5, null, { timeout: 15_000 });
    const state = await page.evaluate(() => {
      const a = document.getElementById("player") as HTMLAudioElement;
      return { error: a.error?.message ?? null, paused: a.paused, src: a.src, duration: a.duration };
    });
    expect(state.error).toBeNull();
    expect(state.paused).toBe(false);
    expect(state.src).toMatch(/^blob:/); // a MediaSource, fed as the bytes arrived
    expect(state.duration).toBeGreaterThan(2);
    expect(synthesizeTypes).toEqual(["200 audio/aac"]);
    // The typed controls reached the UI as CosyVoice3's instruction (instruct mode, chosen automatically).
    const call = readRecord(stack.standin.record).filter((e) => e.event === "call" && e["fn"] === "generate_audio").at(-1);
    expect(JSON.stringify(call?.["inputs"])).toContain("请用四川话表达。请非常开心地说一句话。<|endofprompt|>");
    const link = page.getByRole("link", { name: "Download the clip" });
    expect(await link.getAttribute("download")).toMatch(/^cosyvoice-a_[\w-]{22}\.aac$/);
    expect(await link.getAttribute("href")).toMatch(/^blob:/);
    const shot = process.env["PLAYGROUND_SCREENSHOT"];
    if (shot) {
      const file = resolve(import.meta.dirname, "../../..", shot);
      await page.screenshot({ path: file, fullPage: true });
      expect(pngSize(await import("node:fs").then((fs) => fs.readFileSync(file))).width).toBe(1000);
    }
  });

  describe("with API keys configured", () => {
    let keyed: RunningGateway;

    beforeAll(async () => {
      const config = defaultConfig({ port: 0, host: "127.0.0.1", dataDir: join(dir, "keyed"), cosyvoiceUrls: [stack.standin.url], apiKeys: [KEY], healthCheckIntervalMs: 0, logLevel: "silent" });
      keyed = await startGateway(config, pino({ level: "silent" }));
    });
    afterAll(() => keyed?.stop());

    it("asks for the key once, refuses a wrong one, and keeps the right one for the tab", async () => {
      const p = await context.newPage();
      await p.goto(`${keyed.url}/`);
      const dialog = p.getByRole("dialog", { name: "API key" });
      await dialog.waitFor();
      await p.getByRole("textbox", { name: "API key" }).fill("wrong-key-wrong-key-wrong");
      await p.getByRole("button", { name: "Use this key" }).click();
      await p.getByText("The gateway did not accept this key.").waitFor();
      await p.getByRole("textbox", { name: "API key" }).fill(KEY);
      await p.getByRole("button", { name: "Use this key" }).click();
      await p.waitForSelector("body[data-ready]");
      expect(await dialog.isVisible()).toBe(false);
      expect(await p.evaluate(() => sessionStorage.getItem("cosyvoice3-playground.apiKey"))).toBe(KEY);
      // With a key, the list is that key's voices, and the page says so.
      expect(await p.textContent("#voice-help")).toBe("Built-in speakers of the model, then the voices saved with this key.");
      await p.reload();
      await p.waitForSelector("body[data-ready]");
      expect(await dialog.isVisible()).toBe(false);
      await p.close();
    });
  });
});
