import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * The newest modification time of any file under a folder (a build is stale when a source is
 * newer than its output).
 * @example newestMtime("apps/gateway/src") > statSync("apps/gateway/dist/main.js").mtimeMs
 * @unit milliseconds since the epoch
 */
export function newestMtime(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}
