/**
 * Stored clips in other formats: `GET /audio/{id}?format=mp3` converts a clip once and keeps the
 * result in the audio store beside it, under an id derived from the clip's id, its bytes' ETag
 * and the format; later requests (and the Range requests of an audio element) read the copy.
 */
import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { AudioMeta, AudioStore } from "../../platform/stores/audio-store.ts";
import type { Encoders } from "./encoders.ts";
import { EncodeError } from "./errors.ts";
import { FORMATS, formatOfMimeType, pcmMimeType, type AudioFormat, type SourceFormat } from "./formats.ts";

/** What {@link clipConverter} needs. */
export interface ClipConverterDeps {
  audio: AudioStore;
  encoders: Encoders;
  logger: Logger;
}

/** Converts stored clips; see {@link clipConverter}. */
export interface ClipConverter {
  /**
   * The clip in `format`: the clip itself when it already is in it, else its converted copy
   * (made now if there is none yet; concurrent requests for the same copy share one conversion).
   * @throws EncodersBusyError, EncodeError
   */
  convert(meta: AudioMeta, format: AudioFormat): Promise<AudioMeta>;
}

/**
 * The id of a clip's copy in a format: `a_` + 22 characters of a hash, so it is as unguessable
 * as the clip's own id (which it cannot be computed without) and a new clip under a reused id
 * (other bytes, other ETag) never finds a stale copy.
 * @example convertedId(meta, "mp3") // "a_Qm3..."
 */
export function convertedId(meta: Pick<AudioMeta, "id" | "etag">, format: AudioFormat): string {
  return "a_" + createHash("sha256").update(`${meta.id}\n${meta.etag}\n${format}`).digest("base64url").slice(0, 22);
}

/** Until a clip says its rate, CosyVoice 2/3's. @unit hertz */
const DEFAULT_RATE = 24_000;

/**
 * @example
 * const converter = clipConverter({ audio, encoders, logger });
 * const mp3 = await converter.convert(meta, "mp3"); // then serve mp3.id from the store
 */
export function clipConverter(deps: ClipConverterDeps): ClipConverter {
  const inflight = new Map<string, Promise<AudioMeta>>();

  async function make(meta: AudioMeta, from: SourceFormat, format: AudioFormat, id: string): Promise<AudioMeta> {
    const body = await deps.audio.read(meta.id);
    if (!body) throw new EncodeError("the clip expired while it was being read");
    const parts: Buffer[] = [];
    for await (const part of body as AsyncIterable<Buffer>) parts.push(part);
    const sampleRate = meta.sampleRate ?? DEFAULT_RATE;
    const bytes = await deps.encoders.convert(Buffer.concat(parts), { from, to: format, sampleRate });
    const rate = FORMATS[format].outputRate(sampleRate);
    const stored = await deps.audio.put(
      {
        id,
        ...(meta.owner !== undefined ? { owner: meta.owner } : {}),
        mimeType: format === "pcm" ? pcmMimeType(rate) : FORMATS[format].mimeType,
        sampleRate: rate,
        ...(meta.durationMs !== undefined ? { durationMs: meta.durationMs } : {}),
      },
      bytes,
    );
    deps.logger.debug({ clip: meta.id, format, bytes: stored.bytes }, "clip converted");
    return stored;
  }

  return {
    async convert(meta, format) {
      const from = formatOfMimeType(meta.mimeType);
      if (from === format) return meta;
      if (from === undefined) throw new EncodeError(`a stored ${meta.mimeType} clip cannot be converted`);
      const id = convertedId(meta, format);
      const existing = await deps.audio.stat(id);
      if (existing) return existing;
      let pending = inflight.get(id);
      if (!pending) {
        pending = make(meta, from, format, id).finally(() => inflight.delete(id));
        inflight.set(id, pending);
      }
      return pending;
    },
  };
}
