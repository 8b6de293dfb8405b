/**
 * The gateway's upload check and the SDK's prompt check are one inspection
 * (`inspectPromptAudio`): for every container ffmpeg writes and every kind of unusable file,
 * `POST /voices` answers what the SDK found (usable: 201; `not_audio`: 415; `empty`,
 * `sample_rate`, `duration`: 422 with those codes), and the SDK would send the same bytes.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspectPromptAudio } from "cosyvoice3-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { startTestGateway, voiceForm, type TestGateway } from "./helpers/harness.ts";
import { makeWav } from "./helpers/wav.ts";

const dir = mkdtempSync(join(tmpdir(), "prompt-formats-"));

/** A tone encoded by ffmpeg into `file` (the extension picks the container). */
function encode(file: string, opts: { rate?: number; seconds?: number; codec?: string[] } = {}): Uint8Array {
  const out = join(dir, file);
  const tone = `sine=frequency=220:sample_rate=${opts.rate ?? 16_000}:duration=${opts.seconds ?? 2}`;
  execFileSync("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", tone, ...(opts.codec ?? []), out]);
  return new Uint8Array(readFileSync(out));
}

const usable: [string, Uint8Array, string][] = [
  ["WAV", encode("a.wav"), "audio/wav"],
  ["FLAC", encode("a.flac"), "audio/flac"],
  ["Ogg Vorbis", encode("a.ogg", { codec: ["-c:a", "libvorbis"] }), "audio/ogg"],
  ["Ogg Opus", encode("b.ogg", { rate: 48_000, codec: ["-c:a", "libopus"] }), "audio/ogg"],
  ["MP3", encode("a.mp3"), "audio/mpeg"],
  ["M4A (AAC)", encode("a.m4a"), "audio/mp4"],
  ["AAC (ADTS)", encode("a.aac"), "audio/aac"],
  ["AIFF", encode("a.aiff"), "audio/aiff"],
  ["WebM (Opus)", encode("a.webm", { rate: 48_000, codec: ["-c:a", "libopus"] }), "audio/webm"],
];

const unusable: [string, Uint8Array, number, string[]][] = [
  ["text", new TextEncoder().encode("this is not audio at all, just words\n".repeat(50)), 415, ["not_audio"]],
  ["a PNG header", Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array<number>(200).fill(0)]), 415, ["not_audio"]],
  ["a RIFF header with nothing after it", new TextEncoder().encode("RIFF\u0000\u0000\u0000\u0000WAVE"), 415, ["not_audio"]],
  ["0 bytes", new Uint8Array(0), 422, ["empty"]],
  ["a WAV header without samples", makeWav({ sampleRate: 24_000, seconds: 0 }), 422, ["empty"]],
  ["an 8 kHz MP3", encode("low.mp3", { rate: 8_000 }), 422, ["sample_rate"]],
  ["a 40 s FLAC", encode("long.flac", { seconds: 40 }), 422, ["duration"]],
  ["a 40 s 8 kHz WAV", makeWav({ sampleRate: 8_000, seconds: 40 }), 422, ["sample_rate", "duration"]],
];

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ backend: new FakeBackend(), config: { maxUploadBytes: 4 * 1024 * 1024 } });
});
afterAll(() => gw.close());

const upload = (audio: Uint8Array) => gw.api("/voices", { method: "POST", body: voiceForm({ audio, name: "Probe", type: "application/octet-stream" }) });

describe("usable prompt audio: the SDK accepts it and the gateway saves it", () => {
  it.each(usable)("%s", async (_name, bytes, mimeType) => {
    const found = await inspectPromptAudio(bytes);
    expect(found.issues).toEqual([]);
    expect(found.format?.mimeType).toBe(mimeType);
    const res = await upload(bytes);
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json.audio).toMatchObject({ mimeType, sampleRate: found.sampleRate, durationMs: found.durationMs });
  });
});

describe("unusable prompt audio: the gateway's answer maps the SDK's issues", () => {
  it.each(unusable)("%s", async (_name, bytes, status, codes) => {
    const found = await inspectPromptAudio(bytes);
    expect(found.issues.map((i) => i.code)).toEqual(codes);
    const res = await upload(bytes);
    expect(res.status).toBe(status);
    if (status === 415) expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:not-audio");
    else {
      expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:invalid-audio");
      expect(res.json.errors.map((e: { code: string; pointer: string }) => [e.pointer, e.code])).toEqual(codes.map((c) => ["/audio", c]));
    }
  });
});
