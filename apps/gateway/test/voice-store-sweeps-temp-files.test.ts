// A crash (kill -9) during voice uploads leaves temp files of writes cut short, and prompt audio
// whose registry entry never landed; reopening the store sweeps both and keeps every voice that
// was acknowledged.
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DiskVoiceStore } from "../src/platform/stores/voice-store.ts";

const audio = { mimeType: "audio/wav", ext: "wav", bytes: 4, sampleRate: 24_000, durationMs: 3000 };

describe("DiskVoiceStore at open", () => {
  it("sweeps *.tmp and unnamed prompt audio, and keeps acknowledged voices", async () => {
    const dir = mkdtempSync(join(tmpdir(), "voices-sweep-"));
    const store = await DiskVoiceStore.open(dir);
    const kept = [];
    for (let i = 0; i < 3; i++) kept.push(await store.create({ owner: "anonymous", name: `V${i}`, audio, data: new Uint8Array([i, 1, 2, 3]) }));
    // What a crash mid-write leaves: the temp files of writeFileAtomic, and the audio of a create
    // that died before the registry named it.
    const leftovers = [
      join(dir, "audio", `${kept[0]!.id}.wav.0123456789ab.tmp`),
      join(dir, "audio", "v_AAAAAAAAAAAAAAAAAAAAAA.wav.ba9876543210.tmp"),
      join(dir, "audio", "v_BBBBBBBBBBBBBBBBBBBBBB.wav"),
      join(dir, "voices.json.00ff00ff00ff.tmp"),
    ];
    for (const f of leftovers) writeFileSync(f, "half");

    const reopened = await DiskVoiceStore.open(dir);
    for (const f of leftovers) expect(existsSync(f), f).toBe(false);
    expect(readdirSync(join(dir, "audio")).sort()).toEqual(kept.map((v) => `${v.id}.wav`).sort());
    expect((await reopened.list()).map((v) => v.id)).toEqual(kept.map((v) => v.id));
    for (const [i, v] of kept.entries()) expect(await reopened.readAudio(v.id)).toEqual(new Uint8Array([i, 1, 2, 3]));
  });

  it("opens an empty directory (nothing to sweep)", async () => {
    const store = await DiskVoiceStore.open(join(mkdtempSync(join(tmpdir(), "voices-sweep-")), "none-yet"));
    expect(await store.list()).toEqual([]);
  });
});
