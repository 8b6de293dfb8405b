/**
 * Prompt audio: every accepted input form becomes bytes with a real file name and MIME type, and is
 * checked with music-metadata (decodable, >= 16 kHz, <= 30 s, not empty) before anything is sent.
 */
import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseBuffer } from "music-metadata";
import { ValidationError, type ValidationIssue } from "../errors.ts";
import { PROMPT_LIMITS, type AudioInput } from "../schemas.ts";

/** Prompt audio ready to upload. */
export interface PromptAudio {
  bytes: Uint8Array;
  name: string;
  mimeType: string;
  /** @unit hertz */
  sampleRate: number;
  /** @unit milliseconds */
  durationMs: number;
}

/** Upper bound on prompt bytes read into memory; 30 s of 48 kHz stereo 32-bit float WAV fits well below it. */
export const MAX_PROMPT_BYTES = 32 * 1024 * 1024;

/** music-metadata's container name -> MIME type and extension. */
const CONTAINERS: Record<string, [string, string]> = {
  WAVE: ["audio/wav", ".wav"],
  MPEG: ["audio/mpeg", ".mp3"],
  FLAC: ["audio/flac", ".flac"],
  Ogg: ["audio/ogg", ".ogg"],
  "M4A/mp42": ["audio/mp4", ".m4a"],
  "M4A/isom": ["audio/mp4", ".m4a"],
  ADTS: ["audio/aac", ".aac"],
  AIFF: ["audio/aiff", ".aiff"],
  WebM: ["audio/webm", ".webm"],
};

const EXT_MIME: Record<string, string> = {
  ".wav": "audio/wav",
  ".mp3": "audio/mpeg",
  ".flac": "audio/flac",
  ".ogg": "audio/ogg",
  ".m4a": "audio/mp4",
  ".aac": "audio/aac",
  ".webm": "audio/webm",
  ".aiff": "audio/aiff",
};

interface Raw {
  bytes: Uint8Array;
  name?: string;
  mimeType?: string;
}

const PATH = ["promptAudio"];

function issue(code: string, message: string): ValidationError {
  const i: ValidationIssue = { path: PATH, code, message };
  return new ValidationError([i]);
}

async function fromBlob(blob: Blob, name?: string, mimeType?: string): Promise<Raw> {
  if (blob.size > MAX_PROMPT_BYTES) throw issue("too_big", `prompt audio is larger than ${MAX_PROMPT_BYTES} bytes`);
  const fileName = typeof File !== "undefined" && blob instanceof File ? blob.name : undefined;
  const raw: Raw = { bytes: new Uint8Array(await blob.arrayBuffer()) };
  const n = name ?? (fileName && fileName !== "blob" ? fileName : undefined);
  if (n) raw.name = n;
  const m = mimeType ?? (blob.type || undefined);
  if (m) raw.mimeType = m;
  return raw;
}

async function fromUrl(url: URL, fetchImpl: typeof fetch, signal: AbortSignal | undefined): Promise<Raw> {
  if (url.protocol === "file:") return fromPath(fileURLToPath(url));
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw issue("unsupported_url", `prompt audio URL must be http(s) or file:, got ${url.protocol}`);
  }
  let res: Response;
  try {
    res = await fetchImpl(url, signal ? { signal } : {});
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ValidationError([{ path: PATH, code: "unreachable", message: `could not fetch ${url.href}: ${String(e)}` }], {
      cause: e,
    });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw issue("unreachable", `fetching ${url.href} answered HTTP ${res.status}`);
  }
  const length = Number(res.headers.get("content-length") ?? "0");
  if (length > MAX_PROMPT_BYTES) {
    await res.body?.cancel();
    throw issue("too_big", `prompt audio is larger than ${MAX_PROMPT_BYTES} bytes`);
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  const raw: Raw = { bytes };
  const last = decodeURIComponent(url.pathname.split("/").pop() ?? "");
  if (last) raw.name = last;
  const type = res.headers.get("content-type")?.split(";")[0]?.trim();
  if (type && type.startsWith("audio/")) raw.mimeType = type;
  return raw;
}

async function fromPath(path: string): Promise<Raw> {
  try {
    const buf = await readFile(path);
    if (buf.byteLength > MAX_PROMPT_BYTES) throw issue("too_big", `prompt audio is larger than ${MAX_PROMPT_BYTES} bytes`);
    return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), name: basename(path) };
  } catch (e) {
    if (e instanceof ValidationError) throw e;
    throw new ValidationError([{ path: PATH, code: "unreadable", message: `cannot read ${path}: ${(e as Error).message}` }], {
      cause: e,
    });
  }
}

/** Reads any accepted input form into bytes (+ name and MIME type where the input carries them). */
export async function readAudioInput(input: AudioInput, fetchImpl: typeof fetch, signal?: AbortSignal): Promise<Raw> {
  if (input instanceof Uint8Array) return { bytes: input };
  if (typeof Blob !== "undefined" && input instanceof Blob) return fromBlob(input);
  if (input instanceof URL) return fromUrl(input, fetchImpl, signal);
  if (typeof input === "string") {
    return /^https?:\/\//i.test(input) || input.startsWith("file:") ? fromUrl(new URL(input), fetchImpl, signal) : fromPath(input);
  }
  const { data, name, mimeType } = input as Exclude<AudioInput, Uint8Array | Blob | string | URL>;
  if (data instanceof Uint8Array) {
    const raw: Raw = { bytes: data };
    if (name) raw.name = name;
    if (mimeType) raw.mimeType = mimeType;
    return raw;
  }
  return fromBlob(data, name, mimeType);
}

/**
 * Checks prompt bytes and settles their file name and MIME type. Throws {@link ValidationError}
 * with one issue on `promptAudio` when the audio is empty, undecodable, below 16 kHz or above 30 s.
 */
export async function checkPromptAudio(raw: Raw): Promise<PromptAudio> {
  if (raw.bytes.byteLength === 0) throw issue("empty", "prompt audio is empty (0 bytes)");
  let format;
  try {
    const meta = await parseBuffer(raw.bytes, raw.mimeType ? { mimeType: raw.mimeType } : undefined, {
      duration: true,
      skipCovers: true,
    });
    format = meta.format;
  } catch (e) {
    throw new ValidationError([{ path: PATH, code: "not_audio", message: `prompt audio cannot be decoded: ${(e as Error).message}` }], {
      cause: e,
    });
  }
  const sampleRate = format.sampleRate;
  const durationMs = format.duration === undefined ? undefined : Math.round(format.duration * 1000);
  if (!format.container || sampleRate === undefined) {
    throw issue("not_audio", "prompt audio is not a recognisable audio file (no sample rate found)");
  }
  // A readable header whose length cannot be measured (or is zero) carries no samples to clone from.
  if (durationMs === undefined || durationMs <= 0 || format.numberOfSamples === 0) {
    throw issue("empty", "prompt audio has no samples");
  }
  if (sampleRate < PROMPT_LIMITS.minSampleRate) {
    throw issue("sample_rate", `prompt audio is ${sampleRate} Hz; at least ${PROMPT_LIMITS.minSampleRate} Hz is required`);
  }
  if (durationMs > PROMPT_LIMITS.maxDurationMs) {
    throw issue(
      "duration",
      `prompt audio lasts ${(durationMs / 1000).toFixed(1)} s; at most ${PROMPT_LIMITS.maxDurationMs / 1000} s is allowed`,
    );
  }
  const known = CONTAINERS[format.container];
  const ext = known?.[1] ?? ".bin";
  let name = raw.name ?? `prompt${ext}`;
  // A name without an extension makes the server guess; give it the detected one.
  if (!extname(name)) name += ext;
  // What the bytes are beats what the caller said they are.
  const mimeType = known?.[0] ?? raw.mimeType ?? EXT_MIME[extname(name).toLowerCase()] ?? "application/octet-stream";
  return { bytes: raw.bytes, name, mimeType, sampleRate, durationMs };
}
