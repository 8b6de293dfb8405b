/**
 * The bounded hand-over between a job (producer) and `stream()`'s reader: a web-streams
 * TransformStream whose writable side holds at most `highWaterMark` items. The producer awaits
 * {@link SegmentChannel.ready} before it fetches the next segment, so a slow reader holds the
 * SDK at most `highWaterMark` segments ahead (plus the one in the reader's hand), however fast
 * the UI produces them. Items written before a failure are still read, then the failure.
 */

type Item<T> = { value: T } | { error: unknown };

export class SegmentChannel<T> {
  private readonly writer: WritableStreamDefaultWriter<Item<T>>;
  private readonly reader: ReadableStreamDefaultReader<Item<T>>;
  private ended = false;

  /** @param highWaterMark items buffered for the reader before the producer waits (>= 1) */
  constructor(highWaterMark: number) {
    const ts = new TransformStream<Item<T>, Item<T>>(
      undefined,
      new CountQueuingStrategy({ highWaterMark: Math.max(1, highWaterMark) }),
      // Nothing waits on the readable side: the writable side's queue is the whole buffer.
      new CountQueuingStrategy({ highWaterMark: 0 }),
    );
    this.writer = ts.writable.getWriter();
    this.reader = ts.readable.getReader();
    // The reader cancelling errors the writable side; the producer learns it from ready().
    this.writer.closed.catch(() => undefined);
  }

  /** Resolves when there is room for one more item; rejects once the reader went away. */
  ready(): Promise<void> {
    return this.writer.ready;
  }

  /** Queues an item (call after {@link ready}). */
  push(value: T): void {
    if (this.ended) return;
    this.writer.write({ value }).catch(() => undefined);
  }

  /** No more items. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.writer.close().catch(() => undefined);
  }

  /** The reader gets `error` after the items already queued. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.writer.write({ error }).catch(() => undefined);
    this.writer.close().catch(() => undefined);
  }

  /** The next item, `done` at the end; rejects with the producer's failure. */
  async next(): Promise<IteratorResult<T, undefined>> {
    const r = await this.reader.read();
    if (r.done) return { done: true, value: undefined };
    if ("error" in r.value) throw r.value.error;
    return { done: false, value: r.value.value };
  }

  /** The reader stops early: the producer's next ready() rejects. */
  cancel(): void {
    this.reader.cancel().catch(() => undefined);
  }
}
