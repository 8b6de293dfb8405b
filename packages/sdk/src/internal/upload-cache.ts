/**
 * Remembers where the server keeps each prompt it received (by content hash), so reusing a
 * prompt does not upload it again while the server still has it. A remembered path older than
 * `verifyAfterMs` is checked with a HEAD before use and uploaded again if it is gone; concurrent
 * calls with the same prompt share one upload.
 */
import { createHash } from "node:crypto";

export interface UploadCacheOptions {
  /** Trust a path this long after it was uploaded or verified. @unit milliseconds */
  verifyAfterMs: number;
  /** Most entries kept (oldest dropped first). */
  maxEntries: number;
  now?: () => number;
}

interface Entry {
  path: string;
  checkedAt: number;
}

export class UploadCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly opts: Required<UploadCacheOptions>;
  /** How many uploads actually happened (for tests and logs). */
  uploads = 0;

  constructor(opts: UploadCacheOptions) {
    this.opts = { now: Date.now, ...opts };
  }

  static key(bytes: Uint8Array, name: string): string {
    // The name is part of the server path (and what the UI sees), so it is part of the key.
    return createHash("sha256").update(bytes).update("\0").update(name).digest("hex");
  }

  /**
   * The server path for `key`: the remembered one (verified with `has` when stale) or a new
   * upload. A failed upload is not remembered.
   */
  async get(key: string, upload: () => Promise<string>, has: (path: string) => Promise<boolean>): Promise<string> {
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.resolve(key, upload, has).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async resolve(key: string, upload: () => Promise<string>, has: (path: string) => Promise<boolean>): Promise<string> {
    const now = this.opts.now();
    const hit = this.entries.get(key);
    if (hit) {
      if (now - hit.checkedAt < this.opts.verifyAfterMs) return hit.path;
      if (await has(hit.path)) {
        hit.checkedAt = this.opts.now();
        return hit.path;
      }
      this.entries.delete(key);
    }
    const path = await upload();
    this.uploads++;
    this.entries.delete(key);
    this.entries.set(key, { path, checkedAt: this.opts.now() });
    while (this.entries.size > this.opts.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return path;
  }

  /** Forgets a path the server turned out not to have. */
  forget(key: string): void {
    this.entries.delete(key);
  }
}
