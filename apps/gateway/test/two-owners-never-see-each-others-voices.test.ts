// With API keys, a voice is its owner's: key B can neither list, read, synthesize with nor
// delete key A's voice (each is 404, as for an id that never existed), and with
// AUDIO_REQUIRES_KEY B cannot fetch A's clips. An ADMIN_KEYS key sees all, including voices saved
// before owners existed (which count as anonymous: with keys on, only admins see them). The same
// on the disk store and on Redis.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedis, type RedisHandle } from "@cosyvoice3/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRedisStores, type RedisStores } from "../src/platform/stores/redis.ts";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { jsonPost, startTestGateway, voiceForm, type TestGateway } from "./helpers/harness.ts";
import { makeWav } from "./helpers/wav.ts";

const KEY_A = "a".repeat(32);
const KEY_B = "b".repeat(32);
const ADMIN = "c".repeat(32);
const as = (key: string, init: RequestInit = {}): RequestInit => ({ ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${key}` } });
const PROBLEM = "urn:cosyvoice3-gateway:problem:";

/** A voice record as written before owners existed (no `owner` field). */
const LEGACY_ID = "v_LegacyLegacyLegacy0001";
const legacyRecord = {
  id: LEGACY_ID,
  name: "Saved before owners",
  promptText: "Hello.",
  createdAt: "2026-01-01T00:00:00.000Z",
  audio: { mimeType: "audio/wav", ext: "wav", bytes: 0, sampleRate: 16_000, durationMs: 1200 },
};
const legacyAudio = makeWav({ sampleRate: 16_000, seconds: 1.2, freq: 150 });
legacyRecord.audio.bytes = legacyAudio.byteLength;

const CONFIG = { apiKeys: [KEY_A, KEY_B], adminKeys: [ADMIN], audioRequiresKey: true };

function ownerSuite(store: "disk" | "redis", start: () => Promise<{ gw: TestGateway; close(): Promise<void> }>) {
  describe(`two owners on the ${store} store`, () => {
    let gw: TestGateway;
    let close: () => Promise<void>;
    let voiceA: string;
    let clipA: string;
    let streamA: string;
    beforeAll(async () => {
      ({ gw, close } = await start());
      const made = await gw.api("/voices", as(KEY_A, { method: "POST", body: voiceForm({ audio: makeWav({ sampleRate: 16_000, seconds: 1.2 }), name: "A's voice", promptText: "Hello." }) }));
      expect(made.status).toBe(201);
      voiceA = made.json.id;
    });
    afterAll(() => close?.());

    const cloned = async (key: string) =>
      ((await gw.api("/voices", as(key))).json.voices as { id: string; kind: string }[]).filter((v) => v.kind === "cloned").map((v) => v.id);

    it("the owner lists, reads and synthesizes with its voice (whole clip and stream)", async () => {
      expect(await cloned(KEY_A)).toEqual([voiceA]);
      expect((await gw.api(`/voices/${voiceA}`, as(KEY_A))).status).toBe(200);
      const whole = await gw.api("/synthesize", as(KEY_A, jsonPost({ text: "Mine.", voice: voiceA })));
      expect(whole.status).toBe(201);
      clipA = whole.json.id;
      const streamed = await gw.api("/synthesize", as(KEY_A, jsonPost({ text: "Mine, streamed.", voice: voiceA, stream: true })));
      expect(streamed.status).toBe(200);
      streamA = streamed.headers.get("x-audio-id")!;
    });

    it("another key does not see it in the list", async () => {
      expect(await cloned(KEY_B)).toEqual([]);
    });

    it.each([
      ["GET /voices/:id", (id: string) => gw.api(`/voices/${id}`, as(KEY_B))],
      ["POST /synthesize", (id: string) => gw.api("/synthesize", as(KEY_B, jsonPost({ text: "Yours?", voice: id })))],
      ["POST /synthesize (stream)", (id: string) => gw.api("/synthesize", as(KEY_B, jsonPost({ text: "Yours?", voice: id, stream: true })))],
      ["DELETE /voices/:id", (id: string) => gw.api(`/voices/${id}`, as(KEY_B, { method: "DELETE" }))],
    ])("another key gets 404 voice-not-found on %s", async (_route, call) => {
      const res = await call(voiceA);
      expect(res.status).toBe(404);
      expect(res.json.type).toBe(PROBLEM + "voice-not-found");
    });

    it("another key gets 404 for the owner's clips (AUDIO_REQUIRES_KEY); the owner and an admin get them", async () => {
      for (const id of [clipA, streamA]) {
        const theirs = await gw.api(`/audio/${id}`, as(KEY_B));
        expect(theirs.status).toBe(404);
        expect(theirs.json.type).toBe(PROBLEM + "audio-not-found");
        expect((await gw.api(`/audio/${id}`, as(KEY_A))).status).toBe(200);
        expect((await gw.api(`/audio/${id}`, as(ADMIN))).status).toBe(200);
      }
    });

    it("a voice saved before owners existed is anonymous: no key sees it, an admin does", async () => {
      expect(await cloned(KEY_A)).not.toContain(LEGACY_ID);
      expect((await gw.api(`/voices/${LEGACY_ID}`, as(KEY_A))).status).toBe(404);
      expect((await gw.api("/synthesize", as(KEY_B, jsonPost({ text: "Old.", voice: LEGACY_ID })))).status).toBe(404);
      expect((await cloned(ADMIN)).sort()).toEqual([LEGACY_ID, voiceA].sort());
      expect((await gw.api("/synthesize", as(ADMIN, jsonPost({ text: "Old, by the admin.", voice: LEGACY_ID })))).status).toBe(201);
    });

    it("the voice survived the other key's delete; its owner deletes it", async () => {
      expect((await gw.api(`/voices/${voiceA}`, as(KEY_A))).status).toBe(200);
      expect((await gw.api(`/voices/${voiceA}`, as(KEY_A, { method: "DELETE" }))).status).toBe(204);
      expect((await gw.api(`/voices/${voiceA}`, as(ADMIN))).status).toBe(404);
    });
  });
}

ownerSuite("disk", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "owners-disk-"));
  mkdirSync(join(dataDir, "voices", "audio"), { recursive: true });
  writeFileSync(join(dataDir, "voices", "voices.json"), JSON.stringify([legacyRecord]));
  writeFileSync(join(dataDir, "voices", "audio", `${LEGACY_ID}.wav`), legacyAudio);
  const gw = await startTestGateway({ backend: new FakeBackend(), dataDir, config: CONFIG });
  return { gw, close: () => gw.close() };
});

let redis: RedisHandle | undefined;
afterAll(() => redis?.stop());

ownerSuite("redis", async () => {
  redis = await startRedis();
  const prefix = `owners-${Date.now()}:`;
  const stores: RedisStores = await openRedisStores({ url: redis.url, prefix, audioTtlMs: 60_000, audioMaxBytes: 2 ** 24, logger: pino({ level: "silent" }) });
  // What an older gateway wrote: the record without an owner, its audio, the index entry.
  await stores.redis
    .multi()
    .set(`${prefix}voice:${LEGACY_ID}`, JSON.stringify(legacyRecord))
    .set(`${prefix}voice:${LEGACY_ID}:audio`, Buffer.from(legacyAudio))
    .zadd(`${prefix}voices`, 1, LEGACY_ID)
    .exec();
  const gw = await startTestGateway({ backend: new FakeBackend(), config: { ...CONFIG, store: "redis", redisUrl: redis.url, redisKeyPrefix: prefix }, stores });
  return {
    gw,
    async close() {
      await gw.close();
      await stores.close();
    },
  };
});
