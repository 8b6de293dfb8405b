/**
 * Prompt audio: every accepted kind (bytes, `{ path }`, `{ url }`) becomes bytes with a real file
 * name and MIME type, read under a byte cap, and is checked with {@link inspectPromptAudio}
 * before anything is sent.
 */
import { basename, extname } from "node:path";
import { ValidationError } from "../errors.ts";
import { inspectPromptAudio } from "../inspect-audio.ts";
import type { AudioInput } from "../schemas.ts";
import { OverCapError, readFileCapped, readResponseCapped } from "./read-capped.ts";

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

/** Prompt bytes as read, with the name and MIME type their source carried. */
export interface RawPrompt {
  bytes: Uint8Array;
  name?: string;
  mimeType?: string;
}

const PATH = ["promptAudio"];

function refuse(code: string, message: string, cause?: unknown): ValidationError {
  return new ValidationError([{ path: PATH, code, message }], cause === undefined ? {} : { cause });
}

const tooBig = (maxBytes: number) => refuse("too_big", `prompt audio is larger than ${maxBytes} bytes`);

async function fromBlob(blob: Blob, maxBytes: number, name?: string, mimeType?: string): Promise<RawPrompt> {
  if (blob.size > maxBytes) throw tooBig(maxBytes);
  const fileName = typeof File !== "undefined" && blob instanceof File ? blob.name : undefined;
  const raw: RawPrompt = { bytes: new Uint8Array(await blob.arrayBuffer()) };
  const n = name ?? (fileName && fileName !== "blob" ? fileName : undefined);
  if (n) raw.name = n;
  const m = mimeType ?? (blob.type || undefined);
  if (m) raw.mimeType = m;
  return raw;
}

async function fromUrl(url: URL, fetchImpl: typeof fetch, signal: AbortSignal | undefined, maxBytes: number): Promise<RawPrompt> {
  let res: Response;
  try {
    res = await fetchImpl(url, signal ? { signal } : {});
  } catch (e) {
    if (signal?.aborted) throw e;
    throw refuse("unreachable", `could not fetch ${url.href}: ${String(e)}`, e);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw refuse("unreachable", `fetching ${url.href} answered HTTP ${res.status}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readResponseCapped(res, maxBytes);
  } catch (e) {
    if (e instanceof OverCapError) throw tooBig(maxBytes);
    if (signal?.aborted) throw e;
    throw refuse("unreachable", `the download of ${url.href} broke off: ${String(e)}`, e);
  }
  const raw: RawPrompt = { bytes };
  const last = decodeURIComponent(url.pathname.split("/").pop() ?? "");
  if (last) raw.name = last;
  const type = res.headers.get("content-type")?.split(";")[0]?.trim();
  if (type && type.startsWith("audio/")) raw.mimeType = type;
  return raw;
}

async function fromPath(path: string, maxBytes: number): Promise<RawPrompt> {
  try {
    return { bytes: await readFileCapped(path, maxBytes), name: basename(path) };
  } catch (e) {
    if (e instanceof OverCapError) throw tooBig(maxBytes);
    throw refuse("unreadable", `cannot read ${path}: ${(e as Error).message}`, e);
  }
}

/** Options of {@link readAudioInput}. */
export interface ReadOptions {
  fetch: typeof fetch;
  signal?: AbortSignal;
  /** @default MAX_PROMPT_BYTES @unit bytes */
  maxBytes?: number;
}

/**
 * Reads an {@link AudioInput} (already checked by the request schema) into bytes, with the name
 * and MIME type the input carries, never more than `maxBytes`.
 */
export async function readAudioInput(input: AudioInput, opts: ReadOptions): Promise<RawPrompt> {
  const maxBytes = opts.maxBytes ?? MAX_PROMPT_BYTES;
  if (input instanceof Uint8Array) {
    if (input.byteLength > maxBytes) throw tooBig(maxBytes);
    return { bytes: input };
  }
  if (typeof Blob !== "undefined" && input instanceof Blob) return fromBlob(input, maxBytes);
  if (!("data" in input || "path" in input || "url" in input)) throw refuse("invalid_audio_input", "promptAudio is not bytes, { path } or { url }");
  if ("path" in input) return fromPath(input.path, maxBytes);
  if ("url" in input) return fromUrl(input.url instanceof URL ? input.url : new URL(input.url), opts.fetch, opts.signal, maxBytes);
  const { data, name, mimeType } = input;
  if (data instanceof Uint8Array) {
    if (data.byteLength > maxBytes) throw tooBig(maxBytes);
    const raw: RawPrompt = { bytes: data };
    if (name) raw.name = name;
    if (mimeType) raw.mimeType = mimeType;
    return raw;
  }
  return fromBlob(data, maxBytes, name, mimeType);
}

/**
 * Checks prompt bytes with {@link inspectPromptAudio} and settles their file name and MIME type.
 * Throws {@link ValidationError} with the inspection's issues on `promptAudio`.
 */
export async function checkPromptAudio(raw: RawPrompt): Promise<PromptAudio> {
  const found = await inspectPromptAudio(raw.bytes, {
    ...(raw.name ? { name: raw.name } : {}),
    ...(raw.mimeType ? { mimeType: raw.mimeType } : {}),
  });
  const { format, sampleRate, durationMs } = found;
  if (found.issues.length > 0 || !format || sampleRate === undefined || durationMs === undefined) {
    throw new ValidationError(found.issues.map((i) => ({ path: PATH, code: i.code, message: `prompt audio: ${i.message}` })));
  }
  const ext = `.${format.ext}`;
  let name = raw.name ?? `prompt${ext}`;
  // A name without an extension makes the server guess; give it the detected one.
  if (!extname(name)) name += ext;
  // What the bytes are beats what the caller said they are.
  return { bytes: raw.bytes, name, mimeType: format.mimeType, sampleRate, durationMs };
}
