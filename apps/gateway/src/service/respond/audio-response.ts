/**
 * The one audio response writer of the doors that answer with audio (REST `/synthesize` streams,
 * OpenAI's `/v1/audio/speech`). It takes a synthesis's chunks (each declares its codec: a Gradio
 * box's AAC, a PCM box's samples), writes them in the asked format as they come, framed raw or as
 * OpenAI's SSE events, with the headers a client needs before the first byte. It owns the
 * encoder: reserved before any GPU work (every encoder busy is a 503 that ran nothing), released
 * when the response closes, whatever ends it. A client that goes away ends the encoder and, by the
 * request's signal, the job on the box. Headers wait for the first bytes, so a failure before
 * audio exists is still a proper error response; after it, the connection is cut.
 */
import { once } from "node:events";
import type { Response } from "express";
import type { BackendChunk } from "../../backends/port.ts";
import { encodedStream, type EncodedStream } from "../encode/encoded-stream.ts";
import type { Encoders, EncoderTicket } from "../encode/encoders.ts";
import type { AudioFormat, SourceFormat } from "../encode/formats.ts";
import { NoAudioError } from "../errors.ts";

/** How the bytes go on the wire. */
export type Framing = "raw" | "sse";

/** What is known of an answer when its headers go out, and when it is over. */
export interface AnswerFacts {
  mimeType: string;
  /** Of the output. @unit hertz */
  sampleRate: number;
  /** Of the audio sent so far (all of it at the end). @unit seconds */
  seconds: number;
}

/** Options shared by {@link reserveAudioResponse} and {@link sendAudio}. */
export interface AudioFraming {
  /** @default "raw" */
  framing?: Framing;
  /** Headers of this door (`X-Audio-Id`, `Content-Location`...), asked when the first bytes are ready. */
  headers?: (facts: AnswerFacts) => Record<string, string>;
  /** SSE only: the last event's fields besides its type (OpenAI's `usage`). */
  done?: (facts: AnswerFacts) => Record<string, unknown>;
}

/** Options of {@link reserveAudioResponse}. */
export interface AudioResponseOptions extends AudioFraming {
  encoders: Encoders;
  format: AudioFormat;
  /** The source format when every box streams the same codec (see `poolSourceFormat`); else the first chunk says. */
  from: SourceFormat | undefined;
  /** The rate the chunks will most likely have (an AAC encoder is primed at it). @unit hertz */
  expected: number;
  /** The request's signal: the client went away (it also ends the job upstream). */
  signal: AbortSignal;
  /** A client that stops reading (but stays) is given this long to go on. @unit milliseconds */
  drainTimeoutMs: number;
  /**
   * Given the whole answer as sent, once it was all sent (the encoded-answer cache keeps it).
   * Bytes are gathered only with this set, and not past `keepMaxBytes`.
   */
  onComplete?: (answer: AnswerFacts & { bytes: Buffer }) => void;
  /** @default 8_388_608 @unit bytes */
  keepMaxBytes?: number;
}

/** A reserved response; see {@link reserveAudioResponse}. */
export interface AudioResponse {
  /** Writes the chunks in the format, as they come; resolves when the response ended. */
  send(chunks: AsyncIterable<BackendChunk>): Promise<void>;
  /** Gives the encoder back without sending (the answer went another way). Idempotent. */
  release(): void;
}

const sseEvent = (event: Record<string, unknown>) => `data: ${JSON.stringify(event)}\n\n`;
const delta = (bytes: Uint8Array) => sseEvent({ type: "speech.audio.delta", audio: Buffer.from(bytes).toString("base64") });

function writeHead(res: Response, framing: Framing, facts: AnswerFacts, extra: Record<string, string> | undefined): void {
  // setHeader, not res.set: Express would add a charset to text/event-stream.
  res.status(200).setHeader("Content-Type", framing === "sse" ? "text/event-stream" : facts.mimeType);
  res.set({ "Cache-Control": "no-store", "X-Accel-Buffering": "no", "X-Sample-Rate": String(facts.sampleRate), ...extra });
}

/**
 * Sends a whole answer already in its format (a clip known whole, an encoded answer from the
 * cache): no encoder, one write.
 * @example sendAudio(res, mp3, { mimeType: "audio/mpeg", sampleRate: 24_000, seconds: 1.5 }, { framing: "raw" });
 */
export function sendAudio(res: Response, bytes: Uint8Array, facts: AnswerFacts, opts: AudioFraming = {}): void {
  const framing = opts.framing ?? "raw";
  writeHead(res, framing, facts, opts.headers?.(facts));
  if (framing === "raw") {
    res.end(bytes);
    return;
  }
  res.write(delta(bytes));
  res.end(sseEvent({ type: "speech.audio.done", ...opts.done?.(facts) }));
}

/**
 * Reserves the encoder of one response, or refuses at once (before any job starts). The
 * reservation is released when the response closes.
 * @throws EncodersBusyError
 * @example
 * const answer = reserveAudioResponse(res, { encoders, format: "mp3", from, expected: 24_000, signal, drainTimeoutMs: 60_000 });
 * await answer.send(synthesis.stream(plan, { signal }));
 */
export function reserveAudioResponse(res: Response, opts: AudioResponseOptions): AudioResponse {
  const framing = opts.framing ?? "raw";
  const { signal } = opts;
  const tickets: EncoderTicket[] = [];
  const reserve = (from: SourceFormat) => {
    const t = opts.encoders.reserve(from, opts.format);
    tickets.push(t);
    return t;
  };
  // The pool's codec not known yet: reserved for AAC (the usual kind); the first chunk may trade it.
  const ticket = reserve(opts.from ?? "aac");
  const release = () => tickets.forEach((t) => t.release());
  res.once("close", release);

  async function send(chunks: AsyncIterable<BackendChunk>): Promise<void> {
    const out: EncodedStream = encodedStream(chunks, ticket, opts.format, { expected: opts.expected, signal, from: opts.from, reserve });
    const encoded = out[Symbol.asyncIterator]();
    const facts = (): AnswerFacts => ({ mimeType: out.mimeType, sampleRate: out.sampleRate, seconds: out.sourceSamples / out.sourceRate });
    const keep = opts.onComplete ? { parts: [] as Uint8Array[], bytes: 0, max: opts.keepMaxBytes ?? 8 * 1024 * 1024 } : undefined;
    let finished = false;
    try {
      let next = await encoded.next();
      if (next.done) throw new NoAudioError();
      writeHead(res, framing, facts(), opts.headers?.(facts()));
      while (!next.done) {
        const bytes = next.value;
        if (keep && keep.bytes <= keep.max) {
          keep.parts.push(bytes);
          keep.bytes += bytes.byteLength;
        }
        if (!res.write(framing === "sse" ? delta(bytes) : bytes)) {
          const wait = AbortSignal.any([signal, AbortSignal.timeout(opts.drainTimeoutMs)]);
          await once(res, "drain", { signal: wait }).catch(() => {
            throw wait.reason;
          });
        }
        // The service stores the clip before it reports done, so its id answers once the client has the last byte.
        next = await encoded.next();
      }
      finished = true;
      const end = facts();
      if (framing === "sse") res.write(sseEvent({ type: "speech.audio.done", ...opts.done?.(end) }));
      res.end();
      if (keep && keep.bytes <= keep.max) opts.onComplete?.({ ...end, bytes: Buffer.concat(keep.parts) });
    } catch (err) {
      throw signal.aborted ? signal.reason : err;
    } finally {
      // Stopped early (the client went away, a failure): the encoder is killed and the job ended.
      if (!finished) await encoded.return(undefined).catch(() => undefined);
      release();
    }
  }

  return { send, release };
}
