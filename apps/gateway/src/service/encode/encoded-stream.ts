/**
 * A stream of the backend's AAC chunks as bytes of another format, for the doors that stream
 * (REST `/synthesize`, OpenAI's `/v1/audio/speech`): one primed encoder per response, with what
 * a response needs to say before its first byte (the media type and the rate).
 */
import type { AudioChunk } from "cosyvoice3-sdk";
import { adtsSampleRate, adtsSamples } from "./adts.ts";
import type { EncoderTicket } from "./encoders.ts";
import { FORMATS, pcmMimeType, type AudioFormat } from "./formats.ts";

/** The rate each model family's UI streams at, until the backend has said. @unit hertz */
const MODEL_RATE: Record<string, number> = { cosyvoice1: 22_050, cosyvoice2: 24_000, cosyvoice3: 24_000 };

/**
 * The rate a backend's chunks will most likely have: what it said, else its model family's.
 * @example expectedRate({ model: "cosyvoice1" }) // 22050
 */
export function expectedRate(info: { sampleRate?: number | undefined; model: string }): number {
  return info.sampleRate ?? MODEL_RATE[info.model] ?? 24_000;
}

/** Encoded bytes, and what is known of the audio once they flow. */
export interface EncodedStream extends AsyncIterable<Uint8Array> {
  /** The output's rate, known once the first bytes came (from the first chunk). @unit hertz */
  readonly sampleRate: number;
  /** Content-Type of the output (for pcm, with its rate). */
  readonly mimeType: string;
  /** Samples of source audio read so far (exact: counted from the ADTS frames). */
  readonly sourceSamples: number;
  /** The rate of the source chunks. @unit hertz */
  readonly sourceRate: number;
  /** Starts the encoder (at once: it primes while the backend makes the first chunk). */
  [Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined>;
}

/**
 * Encodes `chunks` with a reserved encoder. Iterate it once; headers can be written after the
 * first bytes come (the first chunk's rate is known then).
 * @example
 * const out = encodedStream(stream, ticket, "mp3", { expected: 24_000, signal });
 * for await (const bytes of out) res.write(bytes); // out.mimeType, out.sampleRate
 */
export function encodedStream(
  chunks: AsyncIterable<AudioChunk>,
  ticket: EncoderTicket,
  format: AudioFormat,
  opts: { expected: number; signal: AbortSignal },
): EncodedStream {
  let first: AudioChunk | undefined;
  let samples = 0;
  async function* source(): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) {
      first ??= chunk;
      samples += adtsSamples(chunk.data);
      yield chunk.data;
    }
  }
  const sourceRate = () => (first && adtsSampleRate(first.data)) ?? opts.expected;
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
    [Symbol.asyncIterator]: () =>
      ticket.encode(source(), { from: "aac", to: format, sampleRate: opts.expected, expectedRate: opts.expected, signal: opts.signal }),
  };
}
