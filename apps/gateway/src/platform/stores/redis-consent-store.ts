/**
 * Voice consents in Redis, shared by every gateway instance: the record (JSON) and the
 * recording under the consent's id, and one sorted set per owner listing ids by creation time.
 * Created, renamed and deleted in one MULTI each.
 */
import type { Redis } from "ioredis";
import { CONSENT_ID } from "../ids.ts";
import { byNewest, ConsentRecordSchema, newConsentRecord, pageOf, type ConsentPage, type ConsentRecord, type ConsentStore, type NewConsent } from "./consent-store.ts";
import { guard } from "./redis-errors.ts";

/**
 * @example const consents = new RedisConsentStore(redis, "cosyvoice3-gateway:");
 */
export class RedisConsentStore implements ConsentStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  private key(id: string): string {
    return `${this.prefix}consent:${id}`;
  }

  private recordingKey(id: string): string {
    return `${this.prefix}consent:${id}:recording`;
  }

  /** Every consent's id, and each owner's, by creation time. */
  private index(owner?: string): string {
    return owner === undefined ? `${this.prefix}consents` : `${this.prefix}consents:${owner}`;
  }

  private parse(json: string | null): ConsentRecord | undefined {
    if (json === null) return undefined;
    try {
      return ConsentRecordSchema.parse(JSON.parse(json));
    } catch {
      return undefined;
    }
  }

  private static async exec(multi: ReturnType<Redis["multi"]>): Promise<[Error | null, unknown][]> {
    const results = await multi.exec();
    const failed = results?.find(([err]) => err !== null);
    if (!results || failed) throw failed?.[0] ?? new Error("the transaction was discarded");
    return results;
  }

  get(id: string): Promise<ConsentRecord | undefined> {
    if (!CONSENT_ID.test(id)) return Promise.resolve(undefined);
    return guard("consent read", async () => this.parse(await this.redis.get(this.key(id))));
  }

  list(owner: string | undefined, page: { after?: string; limit: number }): Promise<ConsentPage> {
    return guard("consent list", async () => {
      const ids = await this.redis.zrevrange(this.index(owner), 0, -1);
      if (ids.length === 0) return { data: [], hasMore: false };
      const records = (await this.redis.mget(ids.map((id) => this.key(id)))).map((r) => this.parse(r)).filter((r): r is ConsentRecord => r !== undefined);
      return pageOf(records.sort(byNewest), page);
    });
  }

  create(consent: NewConsent): Promise<ConsentRecord> {
    return guard("consent create", async () => {
      const record = newConsentRecord(consent, this.now());
      const data = Buffer.from(consent.data.buffer, consent.data.byteOffset, consent.data.byteLength);
      await RedisConsentStore.exec(
        this.redis
          .multi()
          .set(this.recordingKey(record.id), data)
          .set(this.key(record.id), JSON.stringify(record))
          .zadd(this.index(), record.createdAt, record.id)
          .zadd(this.index(record.owner), record.createdAt, record.id),
      );
      return record;
    });
  }

  rename(id: string, name: string): Promise<ConsentRecord | undefined> {
    return guard("consent rename", async () => {
      const record = await this.get(id);
      if (!record) return undefined;
      const renamed = { ...record, name };
      // XX: a consent deleted meanwhile is not brought back.
      const ok = await this.redis.set(this.key(id), JSON.stringify(renamed), "XX");
      return ok === "OK" ? renamed : undefined;
    });
  }

  delete(id: string): Promise<boolean> {
    return guard("consent delete", async () => {
      const record = await this.get(id);
      if (!record) return false;
      const results = await RedisConsentStore.exec(
        this.redis.multi().del(this.key(id), this.recordingKey(id)).zrem(this.index(), id).zrem(this.index(record.owner), id),
      );
      return Number(results[0]?.[1]) > 0;
    });
  }

  readRecording(id: string): Promise<Uint8Array | undefined> {
    if (!CONSENT_ID.test(id)) return Promise.resolve(undefined);
    return guard("consent recording read", async () => {
      const data = await this.redis.getBuffer(this.recordingKey(id));
      return data === null ? undefined : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    });
  }
}
