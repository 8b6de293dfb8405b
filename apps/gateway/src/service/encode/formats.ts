/**
 * The audio formats the gateway produces, as data: each says its media type, file extension,
 * the codec ffprobe reports for it, and the ffmpeg output arguments that make it. A new format
 * is one entry here.
 */

/** Formats the gateway can answer in (OpenAI's `response_format` names). */
export const AUDIO_FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

/**
 * What the encoder reads: the SDK's streamed chunks (AAC ADTS), a stored WAV clip, or a clip
 * the gateway converted before (any of its formats).
 */
export type SourceFormat = AudioFormat;

/** One output format. */
export interface FormatSpec {
  /** Content-Type of a response in this format. */
  mimeType: string;
  ext: string;
  /** The codec ffprobe names for it (what tests check). */
  codec: string;
  /** ffmpeg output arguments (after the input), for audio at `sampleRate`. */
  args(sampleRate: number): string[];
  /** The output's sample rate for an input at `sampleRate`. @unit hertz */
  outputRate(sampleRate: number): number;
  /** ffmpeg input arguments to read this format from a pipe (at `sampleRate` when it has no header). */
  input(sampleRate: number): string[];
}

const same = (rate: number) => rate;

/**
 * The table. Choices and why:
 * - mp3: CBR 64 kbit/s (speech, mono, 22.05/24 kHz), no Xing/LAME header and no ID3 tag, so
 *   the stream is nothing but MPEG frames and separately encoded pieces concatenate into one
 *   valid file (LibreChat plays pieces back to back) whose duration tools read from its size.
 * - opus: Ogg Opus at 48 kHz (the only rate every Opus decoder outputs; 22.05 kHz input needs
 *   resampling anyway), 20 ms frames, pages flushed every 100 ms instead of ffmpeg's 1 s so
 *   audio leaves as it is encoded.
 * - aac: ADTS at 64 kbit/s (only used when the source is not already AAC; see `passthrough`).
 * - flac: a streamed FLAC cannot go back to write its length, so STREAMINFO says "unknown";
 *   decoders play it whole, some players show no duration.
 * - wav: a 44-byte header whose sizes say "unknown" (0xFFFFFFFF), as ffmpeg writes to a pipe;
 *   no LIST/INFO chunk (bitexact).
 * - pcm: raw 16-bit little-endian mono, no header; the rate is sent in a response header.
 */
export const FORMATS: Record<AudioFormat, FormatSpec> = {
  mp3: {
    mimeType: "audio/mpeg",
    ext: "mp3",
    codec: "mp3",
    input: () => ["-f", "mp3"],
    args: () => ["-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0", "-id3v2_version", "0", "-f", "mp3"],
    outputRate: same,
  },
  opus: {
    mimeType: "audio/ogg; codecs=opus",
    ext: "opus",
    codec: "opus",
    input: () => ["-f", "ogg"],
    args: () => ["-ar", "48000", "-c:a", "libopus", "-b:a", "32k", "-frame_duration", "20", "-application", "audio", "-page_duration", "100000", "-f", "ogg"],
    outputRate: () => 48_000,
  },
  aac: {
    mimeType: "audio/aac",
    ext: "aac",
    codec: "aac",
    // The smallest probe: ADTS frame headers say everything, so the first frames decode as
    // soon as they arrive.
    input: () => ["-f", "aac", "-probesize", "32", "-analyzeduration", "0"],
    args: () => ["-c:a", "aac", "-b:a", "64k", "-f", "adts"],
    outputRate: same,
  },
  flac: {
    mimeType: "audio/flac",
    ext: "flac",
    codec: "flac",
    input: () => ["-f", "flac"],
    args: () => ["-c:a", "flac", "-f", "flac"],
    outputRate: same,
  },
  wav: {
    mimeType: "audio/wav",
    ext: "wav",
    codec: "pcm_s16le",
    input: () => ["-f", "wav"],
    args: () => ["-c:a", "pcm_s16le", "-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1", "-f", "wav"],
    outputRate: same,
  },
  pcm: {
    mimeType: "audio/pcm",
    ext: "pcm",
    codec: "pcm_s16le",
    input: (rate) => ["-f", "s16le", "-ar", String(rate), "-ac", "1"],
    args: () => ["-c:a", "pcm_s16le", "-f", "s16le"],
    outputRate: same,
  },
};

/**
 * True when the source bytes already are the format asked for, so they go out as they come
 * without an encoder (AAC chunks asked for as aac, a stored WAV asked for as wav).
 * @example passthrough("aac", "aac") // true
 */
export function passthrough(from: SourceFormat, to: AudioFormat): boolean {
  return from === to;
}

/**
 * The format a media type names, for `Accept` negotiation and stored clips.
 * @example formatOfMimeType("audio/mpeg") // "mp3"
 */
export function formatOfMimeType(mimeType: string): AudioFormat | undefined {
  const bare = mimeType.split(";")[0]?.trim().toLowerCase() ?? "";
  const aliases: Record<string, AudioFormat> = { "audio/mp3": "mp3", "audio/opus": "opus", "audio/x-flac": "flac", "audio/x-wav": "wav", "audio/wave": "wav", "audio/l16": "pcm" };
  for (const f of AUDIO_FORMATS) if (FORMATS[f].mimeType.split(";")[0] === bare) return f;
  return aliases[bare];
}

/**
 * The media type of a PCM response, with what a raw stream cannot say for itself.
 * @example pcmMimeType(24_000) // "audio/pcm;rate=24000;channels=1;encoding=s16le"
 */
export function pcmMimeType(sampleRate: number): string {
  return `audio/pcm;rate=${sampleRate};channels=1;encoding=s16le`;
}
