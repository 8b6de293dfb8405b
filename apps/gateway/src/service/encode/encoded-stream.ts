/**
 * A stream of a box's chunks as bytes of another format, for the doors that stream (REST
 * `/synthesize`, OpenAI's `/v1/audio/speech`): one encoder per response, with what a response
 * needs to say before its first byte (the media type and the rate). Each chunk declares its
 * codec: AAC (ADTS) from a Gradio box, raw PCM from the others. PCM asked of a PCM box passes
 * through untouched (bit-exact); WAV and FLAC of it are lossless.
 */
import type { BackendChunk, Codec } from "../../backends/port.ts";
import { MODEL_RATE } from "../../backends/port.ts";
import { adtsSampleRate, adtsSamples } from "./adts.ts";
import type { EncoderTicket } from "./encoders.ts";
import { FORMATS, pcmMimeType, type AudioFormat, type SourceFormat } from "./formats.ts";

/**
 * The rate a backend's chunks will most likely have: what it said, else its model family's.
 * @example expectedRate({ model: "cosyvoice1" }) // 22050
 */
export function expectedRate(info: { sampleRate?: number | undefined; model: string }): number {
  return info.sampleRate ?? (MODEL_RATE as Record<string, number>)[info.model] ?? 24_000;
}

/**
 * The source format of a codec, as the encoders name it.
 * @example sourceFormatOf({ kind: "adts" }) // "aac"
 */
export function sourceFormatOf(codec: Codec["kind"]): SourceFormat {
  return codec === "adts" ? "aac" : codec === "wav" ? "wav" : "pcm";
}

/**
 * The source format of a pool's chunks when every box is known and all stream the same codec;
 * undefined for a mixed or not yet checked pool (the first chunk then says).
 * @example poolSourceFormat([{ codec: "pcm_s16le" }, { codec: "pcm_s16le" }]) // "pcm"
 */
export function poolSourceFormat(boxes: readonly { codec?: Codec["kind"] | undefined }[]): SourceFormat | undefined {
  const codecs = new Set(boxes.map((b) => b.codec));
  const [only] = codecs;
  return codecs.size === 1 && only !== undefined ? sourceFormatOf(only) : undefined;
}

/** Encoded bytes, and what is known of the audio once they flow. */
export interface EncodedStream extends AsyncIterable<Uint8Array> {
  /** The output's rate, known once the first bytes came (from the first chunk). @unit hertz */
  readonly sampleRate: number;
  /** Content-Type of the output (for pcm, with its rate). */
  readonly mimeType: string;
  /** Samples of source audio read so far (exact: counted from the ADTS frames or the PCM bytes). */
  readonly sourceSamples: number;
  /** The rate of the source chunks. @unit hertz */
  readonly sourceRate: number;
  /** Starts the encoder (at once for AAC: it primes while the backend makes the first chunk). */
  [Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined>;
}

/** Options of {@link encodedStream}. */
export interface EncodedStreamOptions {
  /** The rate the chunks most likely have (see {@link expectedRate}). @unit hertz */
  expected: number;
  signal: AbortSignal;
  /**
   * The source format the ticket was reserved for: the pool's codec when every box has the same
   * (see {@link poolSourceFormat}). `aac` primes ffmpeg before the first chunk; otherwise
   * (undefined: a mixed pool, or one not checked yet) the first chunk says what comes.
   */
  from?: SourceFormat | undefined;
  /** Reserves another encoder when the chunks come in another codec than `from` (a mixed pool). */
  reserve?: (from: SourceFormat) => EncoderTicket;
}

const rateOf = (chunk: BackendChunk): number | undefined =>
  chunk.codec.kind === "pcm_s16le" ? chunk.codec.sampleRate : chunk.codec.kind === "adts" ? adtsSampleRate(chunk.data) : chunk.sampleRate;

/**
 * Encodes `chunks` with a reserved encoder. Iterate it once; headers can be written after the
 * first bytes come (the first chunk's rate is known then).
 * @example
 * const out = encodedStream(stream, ticket, "mp3", { expected: 24_000, signal });
 * for await (const bytes of out) res.write(bytes); // out.mimeType, out.sampleRate
 */
export function encodedStream(chunks: AsyncIterable<BackendChunk>, ticket: EncoderTicket, format: AudioFormat, opts: EncodedStreamOptions): EncodedStream {
  // The ticket of a pool whose codec is not known yet was reserved for AAC (the usual kind).
  const planned = opts.from ?? "aac";
  const prime = opts.from === "aac";
  let first: BackendChunk | undefined;
  let samples = 0;
  const count = (chunk: BackendChunk) => {
    first ??= chunk;
    samples += chunk.codec.kind === "adts" ? adtsSamples(chunk.data) : chunk.data.byteLength / 2;
  };
  const sourceRate = () => (first && rateOf(first)) ?? opts.expected;

  async function* bytesOf(it: AsyncIterator<BackendChunk>, head?: BackendChunk): AsyncGenerator<Uint8Array> {
    try {
      if (head) yield head.data;
      for (;;) {
        const next = await it.next();
        if (next.done) return;
        count(next.value);
        yield next.value.data;
      }
    } finally {
      await it.return?.();
    }
  }

  async function* run(): AsyncGenerator<Uint8Array, void, undefined> {
    const it = chunks[Symbol.asyncIterator]();
    if (prime) {
      // ffmpeg starts (primed) while the box makes its first chunk; the chunks are ADTS.
      yield* ticket.encode(bytesOf(it), { from: "aac", to: format, sampleRate: opts.expected, expectedRate: opts.expected, signal: opts.signal });
      return;
    }
    // Other codecs: the first chunk says what comes (and its rate) before an encoder starts.
    const head = await it.next();
    if (head.done) return;
    count(head.value);
    const from = sourceFormatOf(head.value.codec.kind);
    let t = ticket;
    if (from !== planned) {
      if (!opts.reserve) throw new Error(`chunks came as ${from}, the encoder was reserved for ${planned}`);
      ticket.release();
      t = opts.reserve(from);
    }
    try {
      yield* t.encode(bytesOf(it, head.value), { from, to: format, sampleRate: sourceRate(), signal: opts.signal });
    } finally {
      if (t !== ticket) t.release();
    }
  }

  return {
    get sampleRate() {
      return FORMATS[format].outputRate(sourceRate());
    },
    get mimeType() {
      return format === "pcm" ? pcmMimeType(this.sampleRate) : FORMATS[format].mimeType;
    },
    get sourceSamples() {
      return samples;
    },
    get sourceRate() {
      return sourceRate();
    },
    [Symbol.asyncIterator]: () => run(),
  };
}
