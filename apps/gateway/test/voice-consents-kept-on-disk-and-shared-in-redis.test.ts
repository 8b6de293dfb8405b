// Voice consents live where voices do: on disk they survive a restart (and a crash's leftovers
// are swept), in Redis a consent recorded through one gateway is seen, renamed and deleted
// through another; pages follow `after` and stay per owner in both.
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedis, synthWav, type RedisHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiskConsentStore, type ConsentStore } from "../src/platform/stores/consent-store.ts";
import { startGatewayPair, type GatewayPair } from "./helpers/redis-pair.ts";

const consent = (owner: string, name: string) => ({
  owner,
  name,
  language: "en",
  recording: { mimeType: "audio/wav", ext: "wav", bytes: 4, durationMs: 1 },
  data: new Uint8Array([1, 2, 3, 4]),
});

async function pages(store: ConsentStore, owner: string, limit: number): Promise<string[][]> {
  const out: string[][] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.list(owner, { limit, ...(after !== undefined ? { after } : {}) });
    out.push(page.data.map((c) => c.name));
    if (!page.hasMore) return out;
    after = page.data.at(-1)?.id;
  }
}

describe("disk consent store", () => {
  it("pages newest first per owner, survives reopening, sweeps stray recordings", async () => {
    const dir = mkdtempSync(join(tmpdir(), "consents-"));
    let t = 1_000;
    const store = await DiskConsentStore.open(dir, () => (t += 1000));
    for (const n of ["a1", "a2", "a3"]) await store.create(consent("key:a", n));
    const b1 = await store.create(consent("key:b", "b1"));
    expect(await pages(store, "key:a", 2)).toEqual([["a3", "a2"], ["a1"]]);
    expect(await pages(store, "key:b", 20)).toEqual([["b1"]]);
    writeFileSync(join(dir, "recordings", "cons_stray.wav"), "x");
    const reopened = await DiskConsentStore.open(dir);
    expect((await reopened.get(b1.id))?.name).toBe("b1");
    expect(await reopened.readRecording(b1.id)).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(readdirSync(join(dir, "recordings"))).not.toContain("cons_stray.wav");
    expect((await reopened.rename(b1.id, "renamed"))?.name).toBe("renamed");
    expect(await reopened.delete(b1.id)).toBe(true);
    expect(await (await DiskConsentStore.open(dir)).get(b1.id)).toBeUndefined();
  });
});

describe("Redis consent store, two gateways", () => {
  let redis: RedisHandle;
  let pair: GatewayPair;
  beforeAll(async () => {
    redis = await startRedis();
    pair = await startGatewayPair(redis.url, { voiceConsent: "required" });
  });
  afterAll(async () => {
    await pair?.close();
    await redis?.stop();
  });

  it("recorded through one, read, renamed, used for a voice and deleted through the other", async () => {
    const form = new FormData();
    form.set("name", "Eve");
    form.set("language", "de-DE");
    form.set("recording", new Blob([synthWav({ seconds: 1 }).slice()], { type: "audio/wav" }), "c.wav");
    const created = await pair.a.api("/v1/audio/voice_consents", { method: "POST", body: form });
    expect(created.status).toBe(200);
    const id = created.json.id as string;
    expect((await pair.b.api(`/v1/audio/voice_consents/${id}`)).json).toMatchObject({ id, name: "Eve", language: "de-DE" });
    const renamed = await pair.b.api(`/v1/audio/voice_consents/${id}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Eve K." }) });
    expect(renamed.json.name).toBe("Eve K.");
    expect((await pair.a.api("/v1/audio/voice_consents?limit=1")).json).toMatchObject({ object: "list", data: [{ id, name: "Eve K." }], has_more: false });
    // VOICE_CONSENT=required holds on REST /voices too when it is set.
    const voice = new FormData();
    voice.set("name", "Eve");
    voice.set("audio", new Blob([synthWav({ seconds: 2 }).slice()], { type: "audio/wav" }), "v.wav");
    expect((await pair.a.api("/voices", { method: "POST", body: voice })).json.errors?.[0]).toMatchObject({ pointer: "/consent" });
    voice.set("consent", id);
    expect((await pair.a.api("/voices", { method: "POST", body: voice })).status).toBe(201);
    expect((await pair.b.api(`/v1/audio/voice_consents/${id}`, { method: "DELETE" })).json).toEqual({ id, deleted: true, object: "audio.voice_consent" });
    expect((await pair.a.api(`/v1/audio/voice_consents/${id}`)).status).toBe(404);
  });

  it("pages follow `after` per owner", async () => {
    const store = pair.stores.a.consents;
    for (const n of ["r1", "r2", "r3", "r4", "r5"]) await store.create(consent("key:r", n));
    await store.create(consent("key:s", "s1"));
    expect(await pages(store, "key:r", 2)).toEqual([["r5", "r4"], ["r3", "r2"], ["r1"]]);
    expect(await pages(pair.stores.b.consents, "key:s", 2)).toEqual([["s1"]]);
  });
});
