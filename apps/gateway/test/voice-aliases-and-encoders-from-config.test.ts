// OpenAI voice aliases and the encoder cap come from the environment or the config file (a
// YAML mapping there); a malformed alias list is refused at start-up by its variable's name.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/platform/config.ts";

describe("VOICE_ALIASES, MAX_ENCODERS, FFMPEG_PATH", () => {
  it("default to no aliases, 16 encoders and ffmpeg from PATH", () => {
    expect(loadConfig({})).toMatchObject({ voiceAliases: {}, maxEncoders: 16, ffmpegPath: "ffmpeg" });
  });

  it("read name=voice pairs from the environment", () => {
    const c = loadConfig({ VOICE_ALIASES: " alloy=builtin:中文女 , nova = v_AAAAAAAAAAAAAAAAAAAAAA,echo=My voice=2,", MAX_ENCODERS: "4", FFMPEG_PATH: "/opt/ffmpeg/bin/ffmpeg" });
    expect(c.voiceAliases).toEqual({ alloy: "builtin:中文女", nova: "v_AAAAAAAAAAAAAAAAAAAAAA", echo: "My voice=2" });
    expect(c.maxEncoders).toBe(4);
    expect(c.ffmpegPath).toBe("/opt/ffmpeg/bin/ffmpeg");
  });

  it("read a mapping from the config file", () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    writeFileSync(join(dir, "gw.yaml"), "VOICE_ALIASES:\n  alloy: builtin:中文女\n  shimmer: Ann\nMAX_ENCODERS: 8\n");
    expect(loadConfig({ CONFIG_FILE: "gw.yaml" }, dir)).toMatchObject({ voiceAliases: { alloy: "builtin:中文女", shimmer: "Ann" }, maxEncoders: 8 });
  });

  it.each([["alloy"], ["=x"], ["alloy="]])("refuse %j", (value) => {
    expect(() => loadConfig({ VOICE_ALIASES: value })).toThrow(ConfigError);
    try {
      loadConfig({ VOICE_ALIASES: value });
    } catch (err) {
      expect((err as ConfigError).variables).toEqual(["VOICE_ALIASES"]);
    }
  });

  it("refuse 0 encoders", () => {
    expect(() => loadConfig({ MAX_ENCODERS: "0" })).toThrow(/MAX_ENCODERS/);
  });
});
