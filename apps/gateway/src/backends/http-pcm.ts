/**
 * One HTTP call whose answer is raw PCM (16-bit little-endian mono) streamed as it is made: the
 * FastAPI server's and an OpenAI-shaped server's `response_format: pcm`. Shared by those
 * drivers: the deadline, the caller's abort (which closes the connection, so the server stops
 * at its next yield), and what each failure means, declared by the SDK's error classes.
 */
import { AbortError, ConnectionError, TimeoutError, UpstreamError, type SynthesisResult } from "cosyvoice3-sdk";
import { pcmToWav } from "../service/encode/wav.ts";
import type { BackendChunk } from "./port.ts";

/** Options of {@link pcmCall}. */
export interface PcmCallOptions {
  /** The caller's signal; aborting it closes the connection. */
  signal?: AbortSignal | undefined;
  /** Deadline of the whole call, first byte to last. @unit milliseconds */
  timeoutMs: number;
  fetch?: typeof fetch;
  /** Names the box's service in messages ("the FastAPI server"). */
  service: string;
  /** Told of the 200 answer before its body is read (its headers may say the rate). */
  onAnswer?: (res: Response) => void;
}

/** Errors of the connection that certainly reached no server (nothing was accepted). */
const NEVER_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

const causeCode = (err: unknown): string => {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  return typeof cause?.code === "string" ? cause.code : "";
};

/**
 * Yields the answer's bytes in whole 16-bit samples (a read that splits a sample carries its
 * odd byte to the next), as they arrive.
 * @example for await (const pcm of pcmCall(url, { method: "POST", body: form }, { signal, timeoutMs: 60_000, service: "the FastAPI server" })) out.push(pcm);
 */
export async function* pcmCall(url: string, init: RequestInit, opts: PcmCallOptions): AsyncGenerator<Uint8Array, void, undefined> {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const ctl = new AbortController();
  let answered = false;
  const timer = setTimeout(() => ctl.abort(new TimeoutError(opts.timeoutMs, { accepted: answered })), opts.timeoutMs);
  const onAbort = () => ctl.abort(new AbortError({ accepted: answered }));
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  let done = false;
  try {
    let res: Response;
    try {
      res = await doFetch(url, { ...init, signal: ctl.signal });
    } catch (err) {
      if (ctl.signal.aborted) throw ctl.signal.reason;
      const code = causeCode(err);
      throw new ConnectionError(`Could not reach ${opts.service}${code ? ` (${code})` : ""}`, { cause: err, accepted: !NEVER_CONNECTED.has(code) ? true : false });
    }
    answered = true;
    if (res.status !== 200) {
      const detail = (await res.text().catch(() => "")).slice(0, 500);
      // A refusal of the fields (422) ran nothing; a 500 comes from the handler, which ran.
      throw new UpstreamError(`${opts.service} answered HTTP ${res.status}`, detail, { accepted: res.status >= 500 });
    }
    if (!res.body) throw new UpstreamError(`${opts.service} answered without a body`, undefined, { accepted: true });
    opts.onAnswer?.(res);
    let carry: Uint8Array | undefined;
    try {
      for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
        let bytes = carry ? concat(carry, part) : part;
        carry = undefined;
        if (bytes.byteLength % 2 === 1) {
          carry = bytes.subarray(bytes.byteLength - 1);
          bytes = bytes.subarray(0, bytes.byteLength - 1);
        }
        if (bytes.byteLength > 0) yield bytes;
      }
    } catch (err) {
      if (ctl.signal.aborted) throw ctl.signal.reason;
      // The server cut the answer off (its model raised after the 200, or it died).
      throw new UpstreamError(`${opts.service} broke off its answer`, (err as Error).message, { cause: err, accepted: true });
    }
    done = true;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
    // Left early (the consumer stopped, or a failure): close the connection so the job ends.
    if (!done && !ctl.signal.aborted) ctl.abort(new AbortError({ accepted: answered }));
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

/**
 * The bytes of a prompt audio as the SDK request holds it (the gateway always passes bytes).
 * @example promptBytes({ data, name: "v_x.wav" }) // { data, name: "v_x.wav", mimeType: undefined }
 */
export function promptBytes(audio: unknown): { data: Uint8Array; name: string; mimeType: string | undefined } | undefined {
  if (audio instanceof Uint8Array) return { data: audio, name: "prompt.wav", mimeType: undefined };
  if (typeof audio === "object" && audio !== null && "data" in audio && (audio as { data: unknown }).data instanceof Uint8Array) {
    const a = audio as { data: Uint8Array; name?: string; mimeType?: string };
    return { data: a.data, name: a.name ?? "prompt.wav", mimeType: a.mimeType };
  }
  return undefined;
}

/**
 * A PCM box's streamed chunks gathered into one whole clip: WAV around the box's samples, bit for
 * bit. The PCM drivers' `synthesize` is this over their own `stream`.
 * @example synthesize: (request, opts) => wholePcmClip(stream(request, opts), 24_000)
 */
export async function wholePcmClip(chunks: AsyncIterable<BackendChunk> | Iterable<BackendChunk>, sampleRate: number): Promise<SynthesisResult> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c.data);
  const pcm = Buffer.concat(parts);
  return { audio: pcmToWav(pcm, sampleRate), mimeType: "audio/wav", sampleRate, durationMs: Math.round((pcm.byteLength / 2 / sampleRate) * 1000), chunks: parts.length };
}
