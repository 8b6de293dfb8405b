import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Writes a file so that readers see either the old content or the new, never a torn one:
 * write a temp file in the same directory, fsync it (unless `durable: false`), then rename over
 * the target. Skipping the fsync keeps the rename atomic for running readers but lets a power
 * loss drop (or, on some filesystems, empty) the file: fine for a cache whose loader checks sizes.
 * `dirExists: true` skips creating the directory (a store that made it when it opened).
 * @example await writeFileAtomic("/data/voices.json", JSON.stringify(list));
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  opts: { durable?: boolean; dirExists?: boolean } = {},
): Promise<void> {
  if (opts.dirExists !== true) await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(data);
    if (opts.durable !== false) await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Runs async tasks one after another (a store's writes), so a read-modify-write of a registry
 * never interleaves with another.
 * @example const serial = serialQueue(); await serial(() => save());
 */
export function serialQueue(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>) => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}
