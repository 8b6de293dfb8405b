/**
 * The one check of prompt audio, shared by the SDK (before anything is sent) and the gateway (on
 * upload): what the bytes are, and every reason a CosyVoice UI could not clone from them. It
 * reads headers with music-metadata and never trusts a file name or MIME type over the bytes.
 */
import type { IAudioMetadata } from "music-metadata";
import { PROMPT_LIMITS } from "./schemas.ts";

/**
 * Stable codes of {@link PromptAudioIssue}. `not_audio`: the bytes do not decode as one of the
 * {@link PROMPT_AUDIO_FORMATS}; `empty`: no bytes, or a header without samples; `sample_rate`:
 * under 16 kHz; `duration`: over 30 s.
 */
export type PromptAudioIssueCode = "not_audio" | "empty" | "sample_rate" | "duration";

/** One reason the audio cannot be a prompt. */
export interface PromptAudioIssue {
  code: PromptAudioIssueCode;
  /** A sentence for people, e.g. "the audio is 8000 Hz; at least 16000 Hz is needed". */
  message: string;
}

/** A container accepted as prompt audio. */
export interface PromptAudioFormat {
  /** music-metadata's container name, e.g. `WAVE`, `M4A/isom/iso2`. */
  container: string;
  /** e.g. `audio/wav` */
  mimeType: string;
  /** File extension without the dot, e.g. `wav`. */
  ext: string;
}

/** What {@link inspectPromptAudio} found. `issues` is empty when the audio is usable. */
export interface PromptAudioInspection {
  /** Set when the bytes decode as a supported container. */
  format?: PromptAudioFormat;
  /** @unit hertz */
  sampleRate?: number;
  /** @unit milliseconds */
  durationMs?: number;
  issues: PromptAudioIssue[];
}

/** Hints for undecided bytes; the bytes always win when they say what they are. */
export interface InspectOptions {
  /** A file name; its extension helps only when the content alone does not tell the format. */
  name?: string;
  /** A declared MIME type; used like `name`. */
  mimeType?: string;
}

/**
 * The containers a prompt may come in (the UIs hand the file to torchaudio/ffmpeg, which read all
 * of them), by music-metadata's container name; MP4 brands vary, so `M4A` matches by prefix.
 * @example PROMPT_AUDIO_FORMATS.map((f) => f.label).join(", ") // "WAV, FLAC, Ogg, MP3, M4A, AAC (ADTS), AIFF, WebM"
 */
export const PROMPT_AUDIO_FORMATS: readonly { match: RegExp; mimeType: string; ext: string; label: string }[] = [
  { match: /^WAVE$/, mimeType: "audio/wav", ext: "wav", label: "WAV" },
  { match: /^FLAC$/, mimeType: "audio/flac", ext: "flac", label: "FLAC" },
  { match: /^Ogg$/, mimeType: "audio/ogg", ext: "ogg", label: "Ogg" },
  { match: /^MPEG$/, mimeType: "audio/mpeg", ext: "mp3", label: "MP3" },
  { match: /^(M4A|mp4|isom|mp42)\b/i, mimeType: "audio/mp4", ext: "m4a", label: "M4A" },
  { match: /^ADTS\b/, mimeType: "audio/aac", ext: "aac", label: "AAC (ADTS)" },
  { match: /^AIFF/, mimeType: "audio/aiff", ext: "aiff", label: "AIFF" },
  { match: /^(WebM|EBML\/webm)$/i, mimeType: "audio/webm", ext: "webm", label: "WebM" },
];

const FORMAT_LIST = PROMPT_AUDIO_FORMATS.map((f) => f.label).join(", ");

function formatOf(container: string | undefined): PromptAudioFormat | undefined {
  if (container === undefined) return undefined;
  const f = PROMPT_AUDIO_FORMATS.find((k) => k.match.test(container));
  return f ? { container, mimeType: f.mimeType, ext: f.ext } : undefined;
}

async function parse(bytes: Uint8Array, hints: InspectOptions): Promise<IAudioMetadata["format"]> {
  // Loaded on first use: a gateway that never sees prompt audio never holds the parser (RSS).
  const { parseBuffer } = await import("music-metadata");
  const options = { duration: true, skipCovers: true };
  try {
    // Content first: a declared type picks music-metadata's parser outright, even when wrong.
    return (await parseBuffer(bytes, undefined, options)).format;
  } catch (first) {
    const fileInfo = { ...(hints.mimeType ? { mimeType: hints.mimeType } : {}), ...(hints.name ? { path: hints.name } : {}) };
    if (Object.keys(fileInfo).length === 0) throw first;
    return (await parseBuffer(bytes, fileInfo, options)).format;
  }
}

/**
 * Inspects prompt audio bytes: the container, sample rate and duration, and every issue that
 * keeps a CosyVoice UI from cloning from them (stable `code`s, see {@link PromptAudioIssueCode}).
 * `not_audio` and `empty` come alone; `sample_rate` and `duration` may come together.
 *
 * @example
 * ```ts
 * const found = await inspectPromptAudio(await readFile("prompt.wav"), { name: "prompt.wav" });
 * if (found.issues.length > 0) throw new Error(found.issues.map((i) => i.message).join("; "));
 * found.format; // { container: "WAVE", mimeType: "audio/wav", ext: "wav" }
 * found.sampleRate; // 16000
 * ```
 */
export async function inspectPromptAudio(bytes: Uint8Array, hints: InspectOptions = {}): Promise<PromptAudioInspection> {
  if (bytes.byteLength === 0) return { issues: [{ code: "empty", message: "the audio is empty (0 bytes)" }] };
  let found: IAudioMetadata["format"];
  try {
    found = await parse(bytes, hints);
  } catch (e) {
    return { issues: [{ code: "not_audio", message: `the file does not decode as audio (${FORMAT_LIST}): ${(e as Error).message}` }] };
  }
  const format = formatOf(found.container);
  const sampleRate = found.sampleRate;
  if (!format || sampleRate === undefined) {
    const what = found.container ? `a ${found.container} file without usable audio` : "not a recognisable audio file";
    return { issues: [{ code: "not_audio", message: `the file is ${what}; send ${FORMAT_LIST}` }] };
  }
  const durationMs = found.duration === undefined ? undefined : Math.round(found.duration * 1000);
  const result: PromptAudioInspection = { format, sampleRate, issues: [] };
  // A readable header whose length cannot be measured (or is zero) carries no samples to clone from.
  if (durationMs === undefined || durationMs <= 0 || found.numberOfSamples === 0) {
    result.issues.push({ code: "empty", message: "the audio has no samples" });
    return result;
  }
  result.durationMs = durationMs;
  if (sampleRate < PROMPT_LIMITS.minSampleRate) {
    result.issues.push({
      code: "sample_rate",
      message: `the audio is ${sampleRate} Hz; at least ${PROMPT_LIMITS.minSampleRate} Hz is needed`,
    });
  }
  if (durationMs > PROMPT_LIMITS.maxDurationMs) {
    result.issues.push({
      code: "duration",
      message: `the audio lasts ${(durationMs / 1000).toFixed(1)} s; at most ${PROMPT_LIMITS.maxDurationMs / 1000} s is accepted`,
    });
  }
  return result;
}
