/**
 * Synthesised audio in Redis, shared by every gateway instance: each clip's metadata and bytes
 * carry the TTL as their Redis expiry (PX), and a total-size cap holds across all instances: the
 * clips by expiry time and by write order, their sizes and a running total are kept by one Lua
 * script per write, which forgets expired clips, adds the new one and evicts the oldest written
 * while the total is over the cap. Expired clips are counted until the next write (or `sweep`).
 * The script builds key names from the prefix, so it needs one Redis (or a primary), not Cluster.
 */
import { Readable } from "node:stream";
import type { Redis } from "ioredis";
import { AUDIO_ID } from "../ids.ts";
import type { AudioMeta, AudioStore, NewAudio } from "./audio-store.ts";
import { AudioMetaSchema, newAudioMeta } from "./audio-store.ts";
import { guard } from "./redis-errors.ts";
import { redisScript, type RedisScript } from "./redis-script.ts";

/** Options of {@link RedisAudioStore}. */
export interface RedisAudioStoreOptions {
  /** How long a clip is kept (its Redis expiry). @unit milliseconds */
  ttlMs: number;
  /** Total size kept over all instances; the oldest clips go first beyond it. @unit bytes */
  maxBytes: number;
  /** @default Date.now */
  now?: () => number;
}

// KEYS: 1 expiry (zset id -> expiresAt), 2 order (zset id -> write sequence), 3 sizes (hash
// id -> bytes), 4 total (counter), 5 sequence (counter).
// ARGV: 1 clip key prefix, 2 now, 3 id, 4 meta JSON, 5 data, 6 ttlMs, 7 expiresAt, 8 bytes, 9 maxBytes.
// Without ARGV[3] it only forgets expired clips (sweep). Returns the number of clips evicted.
const PUT_SCRIPT = `
local function forget(id)
  local size = tonumber(redis.call('HGET', KEYS[3], id) or '0')
  redis.call('HDEL', KEYS[3], id)
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('DECRBY', KEYS[4], size)
  redis.call('DEL', ARGV[1] .. id, ARGV[1] .. id .. ':data')
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])) do forget(id) end
if not ARGV[3] then return 0 end
if redis.call('HEXISTS', KEYS[3], ARGV[3]) == 1 then forget(ARGV[3]) end
redis.call('SET', ARGV[1] .. ARGV[3] .. ':data', ARGV[5], 'PX', ARGV[6])
redis.call('SET', ARGV[1] .. ARGV[3], ARGV[4], 'PX', ARGV[6])
redis.call('ZADD', KEYS[1], ARGV[7], ARGV[3])
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[5]), ARGV[3])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[8])
local total = redis.call('INCRBY', KEYS[4], ARGV[8])
local evicted = 0
while total > tonumber(ARGV[9]) do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 1)
  local victim = oldest[1]
  if victim == ARGV[3] then victim = oldest[2] end
  if not victim then break end
  forget(victim)
  evicted = evicted + 1
  total = tonumber(redis.call('GET', KEYS[4]))
end
return evicted
`;


/**
 * @example
 * const audio = new RedisAudioStore(redis, "cosyvoice3-gateway:", { ttlMs: 86_400_000, maxBytes: 2 ** 29 });
 * await audio.put({ id: newId("a_"), mimeType: "audio/wav" }, wavBytes);
 */
export class RedisAudioStore implements AudioStore {
  private readonly now: () => number;
  private readonly keys: [string, string, string, string, string];
  private readonly clipPrefix: string;
  private readonly putCommand: RedisScript<number>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly opts: RedisAudioStoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.clipPrefix = `${prefix}audio:`;
    this.keys = [`${prefix}audio-expiry`, `${prefix}audio-order`, `${prefix}audio-sizes`, `${prefix}audio-total`, `${prefix}audio-seq`];
    this.putCommand = redisScript<number>(redis, "cosyvoiceAudioPut", 5, PUT_SCRIPT);
  }

  async put(audio: NewAudio, data: Uint8Array): Promise<AudioMeta> {
    const meta = newAudioMeta(audio, data, this.now(), this.opts.ttlMs);
    const { createdAt } = meta;
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    await guard("audio write", () =>
      this.putCommand(...this.keys, this.clipPrefix, createdAt, audio.id, JSON.stringify(meta), bytes, this.opts.ttlMs, meta.expiresAt, data.byteLength, this.opts.maxBytes),
    );
    return meta;
  }

  /** Forgets expired clips in the size total (a write does this too). */
  async sweep(): Promise<void> {
    await guard("audio sweep", () => this.putCommand(...this.keys, this.clipPrefix, this.now()));
  }

  /** Bytes counted against the cap now, over all instances. */
  async totalBytes(): Promise<number> {
    return guard("audio total", async () => Number((await this.redis.get(this.keys[3])) ?? 0));
  }

  async stat(id: string): Promise<AudioMeta | undefined> {
    if (!AUDIO_ID.test(id)) return undefined;
    const json = await guard("audio read", () => this.redis.get(this.clipPrefix + id));
    if (json === null) return undefined;
    let meta: AudioMeta;
    try {
      meta = AudioMetaSchema.parse(JSON.parse(json));
    } catch {
      return undefined;
    }
    // Redis expiry and the gateway's clock agree to within clock skew; either one ends the clip.
    return meta.expiresAt <= this.now() ? undefined : meta;
  }

  async read(id: string, range?: { start: number; end: number }): Promise<Readable | undefined> {
    const meta = await this.stat(id);
    if (!meta) return undefined;
    const start = range?.start ?? 0;
    const end = range?.end ?? meta.bytes - 1;
    const data = await guard("audio read", () => this.redis.getrangeBuffer(this.clipPrefix + id + ":data", start, end));
    // Evicted or expired between the metadata and the bytes: as if it had never been there.
    if (data.byteLength !== end - start + 1) return undefined;
    return Readable.from([data]);
  }

  async close(): Promise<void> {}
}
