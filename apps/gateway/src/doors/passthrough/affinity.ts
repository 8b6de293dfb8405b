/**
 * Which backend holds what: a Gradio session's state, an uploaded file, an upload's progress, a
 * `/call` event. Everything a Gradio session does lives in one process's memory or disk, and the
 * requests themselves say which session or file they are about (no cookie is needed, so Python's
 * `gradio_client` and `@gradio/client` stick as well as a browser). Bounded maps with idle
 * expiry, keyed by what the requests carry, valued by the backend's URL.
 */
import { LRUCache } from "lru-cache";

/** Options of {@link Affinity}. */
export interface AffinityOptions {
  /** A session unused this long is forgotten. @default 3_600_000 @unit milliseconds */
  sessionTtlMs?: number;
  /** @default 100_000 */
  maxEntries?: number;
}

const cache = (max: number, ttl: number) => new LRUCache<string, string>({ max, ttl, updateAgeOnGet: true });

/**
 * @example
 * const affinity = new Affinity();
 * affinity.sessions.set("s1", "http://gpu-1:7860");
 * affinity.sessions.get("s1"); // "http://gpu-1:7860"
 */
export class Affinity {
  /** session_hash -> backend. */
  readonly sessions: LRUCache<string, string>;
  /** Server path of an uploaded or produced file -> backend. */
  readonly files: LRUCache<string, string>;
  /** upload_id (browser uploads report progress by it) -> backend. */
  readonly uploads: LRUCache<string, string>;
  /** event_id of `/call` and streaming events -> backend. */
  readonly events: LRUCache<string, string>;

  constructor(opts: AffinityOptions = {}) {
    const ttl = opts.sessionTtlMs ?? 3_600_000;
    const max = opts.maxEntries ?? 100_000;
    this.sessions = cache(max, ttl);
    this.files = cache(max, ttl);
    this.uploads = cache(Math.max(1, Math.floor(max / 10)), Math.min(ttl, 600_000));
    this.events = cache(max, ttl);
  }

  /** The one backend holding all of these files, or undefined when they are unknown or spread. */
  filesBackend(paths: readonly string[]): { url: string | undefined; spread: boolean } {
    let url: string | undefined;
    for (const p of paths) {
      const at = this.files.get(p);
      if (at === undefined) continue;
      if (url !== undefined && at !== url) return { url: undefined, spread: true };
      url = at;
    }
    return { url, spread: false };
  }
}
