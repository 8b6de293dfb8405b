/**
 * What is on disk: every file under a directory, and the data directory's allowed shape, so a
 * test can say "nothing was written outside the data directory and no temp file was left".
 */
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/**
 * Every file and directory under `dir`, as paths relative to it, sorted.
 * @example listTree(gw.root) // ["data", "data/audio", "data/audio/a_....audio", ...]
 */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      out.push(relative(dir, p));
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * The names the gateway's disk stores may use: the voice registry and prompts, clips and
 * their metadata. Anything else (a `.tmp` left by an interrupted write, a name taken from user
 * input) is a finding.
 */
const ALLOWED_IN_DATA = [
  /^voices$/,
  /^voices\/voices\.json$/,
  /^voices\/audio$/,
  /^voices\/audio\/v_[A-Za-z0-9_-]{22}\.[a-z0-9]{2,4}$/,
  /^audio$/,
  /^audio\/a_[A-Za-z0-9_-]{22}\.(audio|json)$/,
  // The synthesis cache's own audio store (CACHE_MAX_BYTES > 0).
  /^cache$/,
  /^cache\/[A-Za-z0-9_-]+\.(audio|json)$/,
  // Narration jobs' store (none of these tests makes a job, so only the folder).
  /^jobs$/,
];

/**
 * Entries of the data directory that none of the stores' patterns explain.
 * @example expect(strayDataFiles(gw.dataDir)).toEqual([]);
 */
export function strayDataFiles(dataDir: string): string[] {
  return listTree(dataDir).filter((p) => !ALLOWED_IN_DATA.some((re) => re.test(p.split("\\").join("/"))));
}
