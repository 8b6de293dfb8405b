/**
 * Saved voices in Redis, shared by every gateway instance: the record (JSON) and the prompt
 * audio bytes under the voice's id, and a sorted set listing the ids by creation time. A voice
 * is created and deleted in one MULTI, so an instance never sees half of one.
 */
import type { Redis } from "ioredis";
import { z } from "zod";
import { SAVED_VOICE_ID } from "../ids.ts";
import { guard } from "./redis-errors.ts";
import { SavedVoiceRecordSchema, newVoiceRecord, type NewVoice, type SavedVoiceRecord, type VoiceStore } from "./voice-store.ts";

/**
 * @example
 * const voices = new RedisVoiceStore(redis, "cosyvoice3-gateway:");
 * const v = await voices.create({ name: "Ann", promptText: "Hello.", audio, data });
 */
export class RedisVoiceStore implements VoiceStore {
  private readonly index: string;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {
    this.index = `${prefix}voices`;
  }

  private recordKey(id: string): string {
    return `${this.prefix}voice:${id}`;
  }

  private audioKey(id: string): string {
    return `${this.prefix}voice:${id}:audio`;
  }

  private parse(json: string | null): SavedVoiceRecord | undefined {
    if (json === null) return undefined;
    try {
      return SavedVoiceRecordSchema.parse(JSON.parse(json));
    } catch {
      // A record another version wrote in a shape this one does not know is skipped, not fatal.
      return undefined;
    }
  }

  list(): Promise<SavedVoiceRecord[]> {
    return guard("voice list", async () => {
      const ids = await this.redis.zrange(this.index, 0, -1);
      if (ids.length === 0) return [];
      const records = await this.redis.mget(ids.map((id) => this.recordKey(id)));
      return records.map((r) => this.parse(r)).filter((r): r is SavedVoiceRecord => r !== undefined);
    });
  }

  get(id: string): Promise<SavedVoiceRecord | undefined> {
    if (!SAVED_VOICE_ID.test(id)) return Promise.resolve(undefined);
    return guard("voice read", async () => this.parse(await this.redis.get(this.recordKey(id))));
  }

  create(voice: NewVoice): Promise<SavedVoiceRecord> {
    return guard("voice create", async () => {
      const createdAt = this.now();
      const record = newVoiceRecord(voice, createdAt);
      const results = await this.redis
        .multi()
        .set(this.audioKey(record.id), Buffer.from(voice.data.buffer, voice.data.byteOffset, voice.data.byteLength))
        .set(this.recordKey(record.id), JSON.stringify(record))
        .zadd(this.index, createdAt, record.id)
        .exec();
      const failed = results?.find(([err]) => err !== null);
      if (!results || failed) throw failed?.[0] ?? new Error("the transaction was discarded");
      return record;
    });
  }

  readAudio(id: string): Promise<Uint8Array | undefined> {
    if (!SAVED_VOICE_ID.test(id)) return Promise.resolve(undefined);
    return guard("voice audio read", async () => {
      const data = await this.redis.getBuffer(this.audioKey(id));
      return data === null ? undefined : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    });
  }

  delete(id: string): Promise<boolean> {
    if (!SAVED_VOICE_ID.test(id)) return Promise.resolve(false);
    return guard("voice delete", async () => {
      const results = await this.redis.multi().zrem(this.index, id).del(this.recordKey(id), this.audioKey(id)).exec();
      const failed = results?.find(([err]) => err !== null);
      if (!results || failed) throw failed?.[0] ?? new Error("the transaction was discarded");
      // Deleted when the record key existed (the index and the record are written together).
      return z.number().parse(results[1]?.[1]) > 0;
    });
  }
}
