/**
 * Prompt audio is checked with music-metadata before anything is sent (decodable, >= 16 kHz,
 * <= 30 s, not empty) and gets a real file name and MIME type whatever kind it came as
 * (bytes, `{ path }`, `{ url }`).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../src/index.ts";
import { checkPromptAudio, readAudioInput } from "../src/internal/prompt-audio.ts";
import type { AudioInput } from "../src/schemas.ts";
import { makeWav } from "./helpers.ts";

const check = async (input: AudioInput) => checkPromptAudio(await readAudioInput(input, { fetch }));

async function issueOf(input: AudioInput): Promise<{ code: string; path: unknown[]; message: string }> {
  try {
    await check(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    const [issue] = (e as ValidationError).issues;
    return issue!;
  }
  throw new Error("expected a ValidationError");
}

describe("refused prompt audio", () => {
  it("8 kHz is below the UI's 16 kHz minimum", async () => {
    const i = await issueOf(makeWav({ sampleRate: 8000 }));
    expect(i).toMatchObject({ code: "sample_rate", path: ["promptAudio"] });
    expect(i.message).toMatch(/8000 Hz/);
  });
  it("40 s is above the 30 s limit", async () => {
    expect(await issueOf(makeWav({ seconds: 40 }))).toMatchObject({ code: "duration", path: ["promptAudio"] });
  });
  it("0 bytes is empty", async () => {
    expect((await issueOf(new Uint8Array())).code).toBe("empty");
  });
  it("a WAV header without samples is empty", async () => {
    expect((await issueOf(makeWav({ seconds: 0 }))).code).toBe("empty");
  });
  it("text is not audio", async () => {
    expect((await issueOf(new TextEncoder().encode("this is not audio at all, just text"))).code).toBe("not_audio");
  });
  it("a missing file is unreadable", async () => {
    expect((await issueOf({ path: "/nonexistent/prompt.wav" })).code).toBe("unreadable");
  });
});

describe("accepted prompt audio gets a real name and MIME type", () => {
  const wav = makeWav({ sampleRate: 16_000, seconds: 2 });
  it("bare bytes: prompt.wav, audio/wav, with rate and duration", async () => {
    expect(await check(wav)).toMatchObject({ name: "prompt.wav", mimeType: "audio/wav", sampleRate: 16_000, durationMs: 2000 });
  });
  it("a bare Blob is not sent as 'blob'", async () => {
    expect((await check(new Blob([wav]))).name).toBe("prompt.wav");
  });
  it("a File keeps its name; the MIME type follows the bytes", async () => {
    const p = await check(new File([wav], "my voice.wav", { type: "application/octet-stream" }));
    expect(p).toMatchObject({ name: "my voice.wav", mimeType: "audio/wav" });
  });
  it("{data, name} without extension gets one", async () => {
    expect((await check({ data: wav, name: "speaker-7" })).name).toBe("speaker-7.wav");
  });
  it("{ path } uses the file's base name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sdk-prompt-"));
    const path = join(dir, "alice.wav");
    writeFileSync(path, wav);
    expect((await check({ path })).name).toBe("alice.wav");
  });
  it("{ url } is fetched; its last path segment names it", async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "audio/wav" });
      res.end(Buffer.from(wav));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const { port } = server.address() as AddressInfo;
      expect((await check({ url: `http://127.0.0.1:${port}/voices/bob.wav` })).name).toBe("bob.wav");
      expect(await issueOf({ url: new URL(`http://127.0.0.1:1/nothing.wav`) })).toMatchObject({ code: "unreachable" });
    } finally {
      server.close();
    }
  });
});
