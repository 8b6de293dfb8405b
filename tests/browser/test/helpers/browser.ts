/**
 * Debian's Chromium (`apt-get install chromium`) driven by playwright-core: no browser download,
 * which this project's machines cannot do anyway.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Where Debian's `chromium` package puts the browser; `CHROMIUM_PATH` names another build. */
export const CHROMIUM_PATH = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

/**
 * Why the browser tests must be skipped here, or `undefined` when they must run. Only a
 * non-root process without Chromium skips: as root (the CI) `scripts/setup.sh` installs it, so
 * a missing browser there is a failure, not a skip.
 * @example
 * const skip = chromiumSkipReason();
 * describe.skipIf(skip !== undefined)("in Chromium", () => {});
 */
export function chromiumSkipReason(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  if (process.getuid?.() === 0) return undefined;
  return `browser tests skipped: ${CHROMIUM_PATH} is missing; install it with \`sudo apt-get install chromium\` (or run scripts/setup.sh as root)`;
}

/**
 * Launches headless Chromium. The flags keep it off the network it would otherwise call home
 * on (this machine's network is closed), and let a muted `<audio>` play without a user gesture;
 * `extraArgs` adds more (e.g. a fake microphone).
 * @example
 * const browser = await launchChromium();
 * const page = await browser.newPage();
 */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (extraArgs.length > 0) return launch(extraArgs);
  // A worker runs its project's files one after another (isolate: false): the browser files
  // that need no flags of their own share one Chromium per worker instead of one each (a start is
  // a few seconds of CPU). Each file still gets a browser whose close() leaves nothing open: it
  // closes every context (each newPage() is a context of its own, as on a fresh browser).
  let real = shared[SHARED];
  if (!real?.isConnected()) real = shared[SHARED] = await launch([]);
  const browser = real;
  return new Proxy(browser, {
    get(target, key) {
      if (key === "close") return async () => void (await Promise.all(target.contexts().map((c) => c.close())));
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const SHARED = Symbol.for("cosyvoice3.browser-tests.chromium");
const shared = globalThis as unknown as Record<symbol, Browser | undefined>;

async function launch(extraArgs: string[]): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: run \`apt-get install chromium\` (scripts/setup.sh does as root)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--autoplay-policy=no-user-gesture-required",
      ...extraArgs,
    ],
  });
}

/** Width and height of a PNG, read from its IHDR chunk; throws on anything that is not a PNG. */
export function pngSize(buf: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (buf.length < 24 || !buf.subarray(0, 8).equals(signature) || buf.toString("ascii", 12, 16) !== "IHDR") {
    throw new Error("not a PNG file");
  }
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}
