/**
 * Saved (cloned) voices: the prompt audio plus its name and transcript. The interface is what
 * the routes use; {@link DiskVoiceStore} is the embedded default.
 */
import { z } from "zod";
import { SAVED_VOICE_ID, newId } from "../ids.ts";
import { RecordFiles } from "./record-files.ts";

export const SavedVoiceRecordSchema = z.object({
  id: z.string().regex(SAVED_VOICE_ID),
  /** Who saved it (an opaque owner id); absent on voices saved before owners existed (anonymous). */
  owner: z.string().min(1).optional(),
  name: z.string(),
  promptText: z.string().optional(),
  /** Who wrote promptText: the client, or the ASR server. @default "client" */
  promptTextSource: z.enum(["client", "asr"]).optional(),
  /** The consent (`cons_...`) the voice was created under. */
  consent: z.string().optional(),
  createdAt: z.string(),
  audio: z.object({
    mimeType: z.string(),
    ext: z.string().regex(/^[a-z0-9]{1,5}$/),
    bytes: z.number().int(),
    sampleRate: z.number().int(),
    durationMs: z.number(),
  }),
});
/** One saved voice as stored. */
export type SavedVoiceRecord = z.infer<typeof SavedVoiceRecordSchema>;

/** A new voice: everything but the id and creation time, plus the audio bytes. */
export interface NewVoice {
  /** Who saves it. */
  owner: string;
  name: string;
  promptText?: string;
  promptTextSource?: "client" | "asr";
  consent?: string;
  audio: SavedVoiceRecord["audio"];
  data: Uint8Array;
}

/** The record of a new voice with a fresh id, created at `now` (the audio bytes are stored beside it). */
export function newVoiceRecord(voice: NewVoice, now: number): SavedVoiceRecord {
  return {
    id: newId("v_"),
    owner: voice.owner,
    name: voice.name,
    ...(voice.promptText !== undefined ? { promptText: voice.promptText } : {}),
    ...(voice.promptTextSource !== undefined ? { promptTextSource: voice.promptTextSource } : {}),
    ...(voice.consent !== undefined ? { consent: voice.consent } : {}),
    createdAt: new Date(now).toISOString(),
    audio: voice.audio,
  };
}

/** Where saved voices live. */
export interface VoiceStore {
  list(): Promise<SavedVoiceRecord[]>;
  get(id: string): Promise<SavedVoiceRecord | undefined>;
  create(voice: NewVoice): Promise<SavedVoiceRecord>;
  /** The prompt audio bytes; undefined when the voice is gone. */
  readAudio(id: string): Promise<Uint8Array | undefined>;
  /** True when a voice was deleted. */
  delete(id: string): Promise<boolean>;
}

/**
 * Voices on local disk: `<dir>/voices.json` (the registry, rewritten atomically) and
 * `<dir>/audio/<id>.<ext>` (prompt audio, written before the registry names it). Opening sweeps
 * what a crash left: temp files and audio no registry entry names.
 * @example
 * const voices = await DiskVoiceStore.open("/var/lib/gateway/voices", () => Date.now());
 * const v = await voices.create({ name: "Ann", promptText: "Hello.", audio, data });
 */
export class DiskVoiceStore implements VoiceStore {
  private constructor(
    private readonly files: RecordFiles<SavedVoiceRecord>,
    private readonly now: () => number,
  ) {}

  static async open(dir: string, now: () => number = Date.now): Promise<DiskVoiceStore> {
    return new DiskVoiceStore(await RecordFiles.open(dir, { list: "voices.json", files: "audio", schema: SavedVoiceRecordSchema, ext: (v) => v.audio.ext }), now);
  }

  async list(): Promise<SavedVoiceRecord[]> {
    return this.files.values();
  }

  async get(id: string): Promise<SavedVoiceRecord | undefined> {
    return this.files.get(id);
  }

  create(voice: NewVoice): Promise<SavedVoiceRecord> {
    return this.files.add(newVoiceRecord(voice, this.now()), voice.data);
  }

  readAudio(id: string): Promise<Uint8Array | undefined> {
    return this.files.read(id);
  }

  delete(id: string): Promise<boolean> {
    return this.files.remove(id);
  }
}
