/**
 * Checks that uploaded bytes are prompt audio the backend can use, by decoding their headers
 * with music-metadata (never by trusting the client's file name or Content-Type).
 */
import { PROMPT_LIMITS } from "cosyvoice3-sdk";
import { parseBuffer } from "music-metadata";
import { HttpProblem } from "./problems.ts";

/** An upload that decoded as audio, with what was found. */
export interface SniffedAudio {
  data: Uint8Array;
  mimeType: string;
  ext: string;
  /** @unit hertz */
  sampleRate: number;
  /** @unit milliseconds */
  durationMs: number;
}

/** Containers accepted as prompt audio, by music-metadata's container name. */
const CONTAINERS: Record<string, { mimeType: string; ext: string }> = {
  WAVE: { mimeType: "audio/wav", ext: "wav" },
  FLAC: { mimeType: "audio/flac", ext: "flac" },
  Ogg: { mimeType: "audio/ogg", ext: "ogg" },
  MPEG: { mimeType: "audio/mpeg", ext: "mp3" },
  "M4A/isom/iso2": { mimeType: "audio/mp4", ext: "m4a" },
  "M4A/mp42/isom": { mimeType: "audio/mp4", ext: "m4a" },
  "M4A/isom/iso2/mp41": { mimeType: "audio/mp4", ext: "m4a" },
};

function container(name: string | undefined): { mimeType: string; ext: string } | undefined {
  if (name === undefined) return undefined;
  if (CONTAINERS[name]) return CONTAINERS[name];
  // MP4 brands vary ("M4A/...", "mp42/...", "isom/..."); the audio is what matters.
  if (/^(M4A|mp4|isom|mp42)\b/i.test(name)) return { mimeType: "audio/mp4", ext: "m4a" };
  return undefined;
}

/**
 * Decodes the headers of an upload and applies the UI's prompt limits.
 * @throws HttpProblem `not_audio` (415) when it does not decode as a supported audio format,
 *   `invalid_audio` (422) when it is under 16 kHz, over 30 s, or empty.
 * @example const audio = await sniffAudio(req.file.buffer); // { mimeType: "audio/wav", sampleRate: 24000, ... }
 */
export async function sniffAudio(data: Uint8Array): Promise<SniffedAudio> {
  let format;
  try {
    ({ format } = await parseBuffer(data, undefined, { duration: true, skipCovers: true }));
  } catch (err) {
    throw new HttpProblem("not_audio", { detail: "The file does not decode as audio (WAV, FLAC, Ogg, MP3 or M4A)", cause: err });
  }
  const kind = container(format.container);
  if (!kind || !format.sampleRate || format.duration === undefined) {
    throw new HttpProblem("not_audio", { detail: "The file does not decode as audio (WAV, FLAC, Ogg, MP3 or M4A)" });
  }
  const durationMs = Math.round(format.duration * 1000);
  const errors = [];
  if (format.sampleRate < PROMPT_LIMITS.minSampleRate) {
    errors.push({ pointer: "/audio", code: "sample_rate", detail: `sample rate is ${format.sampleRate} Hz; at least ${PROMPT_LIMITS.minSampleRate} Hz is needed` });
  }
  if (durationMs > PROMPT_LIMITS.maxDurationMs) {
    errors.push({ pointer: "/audio", code: "duration", detail: `audio lasts ${(durationMs / 1000).toFixed(1)} s; at most ${PROMPT_LIMITS.maxDurationMs / 1000} s is accepted` });
  }
  if (durationMs <= 0) errors.push({ pointer: "/audio", code: "empty", detail: "the audio is empty" });
  if (errors.length > 0) {
    throw new HttpProblem("invalid_audio", { detail: errors.map((e) => e.detail).join("; "), errors });
  }
  return { data, ...kind, sampleRate: format.sampleRate, durationMs };
}
