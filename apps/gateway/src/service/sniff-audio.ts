/**
 * Uploaded prompt audio, checked by the SDK's one inspection (`inspectPromptAudio`): the bytes
 * decide the format, never the client's file name or Content-Type. The HTTP answer to its
 * issues is the upload middleware's (`middleware/upload-audio.ts`).
 */
import { inspectPromptAudio, type PromptAudioIssue } from "cosyvoice3-sdk";

/** An upload that decoded as usable prompt audio, with what was found. */
export interface SniffedAudio {
  data: Uint8Array;
  mimeType: string;
  /** Without the dot, e.g. `wav`. */
  ext: string;
  /** @unit hertz */
  sampleRate: number;
  /** @unit milliseconds */
  durationMs: number;
}

/** Either the checked audio or the issues that make it unusable (never both). */
export type SniffResult = { audio: SniffedAudio; issues?: undefined } | { audio?: undefined; issues: PromptAudioIssue[] };

/**
 * Inspects uploaded bytes as prompt audio.
 * @example const { audio, issues } = await sniffAudio(bytes); // audio: { mimeType: "audio/wav", sampleRate: 24000, ... }
 */
export async function sniffAudio(data: Uint8Array): Promise<SniffResult> {
  const found = await inspectPromptAudio(data);
  const { format, sampleRate, durationMs } = found;
  if (found.issues.length > 0 || !format || sampleRate === undefined || durationMs === undefined) return { issues: found.issues };
  return { audio: { data, mimeType: format.mimeType, ext: format.ext, sampleRate, durationMs } };
}
