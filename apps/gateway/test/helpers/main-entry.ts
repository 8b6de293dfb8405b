/**
 * How a test starts the gateway as a child process (for SIGKILL, or several instances): the
 * built `dist/main.js` when it is newer than every source file, else `src/main.ts` under tsx.
 *
 * Under tsx each start compiles and loads the whole gateway again (about 2.5 s of CPU more than
 * the built file, and tests start some 15 of them a run). `npm test` builds first, so the build is
 * what runs there; a test run right after editing a source (no build) still runs the sources.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { newestMtime } from "@cosyvoice3/testkit";

const GATEWAY = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BUILT = join(GATEWAY, "dist/main.js");

let cached: string[] | undefined;

/**
 * `node` arguments that run the gateway's main, absolute paths (any cwd).
 * @example spawn(process.execPath, [...gatewayMainArgs()], { env })
 */
export function gatewayMainArgs(): string[] {
  if (cached) return cached;
  const fresh = process.env["GATEWAY_TEST_FROM_SOURCE"] !== "1" && existsSync(BUILT) && newestMtime(join(GATEWAY, "src")) <= statSync(BUILT).mtimeMs;
  cached = fresh ? [BUILT] : ["--import", "tsx", join(GATEWAY, "src/main.ts")];
  return cached;
}
