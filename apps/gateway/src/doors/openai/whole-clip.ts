/**
 * Is a stream of chunks already the whole clip? A cache hit yields the stored clip as one chunk
 * and ends at once; a live backend takes a chunk interval (hundreds of ms) between chunks. A
 * format whose header must carry the length (FLAC's STREAMINFO) can then be written complete
 * instead of streamed with "length unknown".
 */
import { setTimeout as sleep } from "node:timers/promises";

/** What {@link peekWhole} found: every chunk when the stream had ended, else the stream itself. */
export type Peeked<T> = { whole: T[] } | { live: AsyncIterable<T> };

/**
 * Reads the first chunk and waits `graceMs` for the stream to end. The live case gives back an
 * iterable that yields everything from the first chunk on, so nothing is lost either way.
 * @example const p = await peekWhole(chunks[Symbol.asyncIterator](), 5); if ("whole" in p) ...
 */
export async function peekWhole<T>(source: AsyncIterator<T>, graceMs: number): Promise<Peeked<T>> {
  const first = await source.next();
  if (first.done) return { whole: [] };
  const second = source.next();
  const timer = new AbortController();
  const quick = await Promise.race([second.then((r) => ({ r })), sleep(graceMs, undefined, { signal: timer.signal }).then(() => undefined, () => undefined)]);
  timer.abort();
  if (quick?.r.done) return { whole: [first.value] };
  async function* live(): AsyncGenerator<T> {
    try {
      yield first.value;
      const next = quick ? quick.r : await second;
      if (next.done) return;
      yield next.value;
      for (let r = await source.next(); !r.done; r = await source.next()) yield r.value;
    } finally {
      // The consumer stopped early (a client gone): the source's own cleanup cancels the job.
      await source.return?.(undefined);
    }
  }
  return { live: live() };
}
