/**
 * The CLI end to end against the real gateway (in this process) in front of the real stand-in:
 * clone a voice from a file, list it, say with it by id and by name (whole WAV to a file, AAC
 * streamed to stdout), delete it; progress as plain lines on a non-terminal stderr, `--quiet`
 * silent, `--json` machine-readable; the key from COSYVOICE_API_KEY and the URL from
 * COSYVOICE_GATEWAY.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseWav, synthWav } from "@cosyvoice3/testkit";
import { AUDIO_FORMATS as GATEWAY_FORMATS, FORMATS as GATEWAY_FORMAT_SPECS } from "cosyvoice3-gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasStack, lines, runCli, workDir } from "./helpers/cli.ts";
import { startStack, type Stack } from "./helpers/stack.ts";

const KEY = "cli-test-key-0123456789abcdefgh";
const PROMPT_TEXT = "Hello, this is my voice for the command line test.";

describe("cosyvoice against a gateway", () => {
  let stack: Stack;
  let dir: string;
  let env: Record<string, string>;
  let voiceId: string;

  beforeAll(async () => {
    stack = await startStack({}, { apiKeys: [KEY] });
    dir = workDir();
    writeFileSync(join(dir, "me.wav"), synthWav({ sampleRate: 24_000, seconds: 3, f0: 160 }));
    env = { COSYVOICE_GATEWAY: stack.gatewayUrl, COSYVOICE_API_KEY: KEY };
  });
  afterAll(() => stack?.close());

  it("clone FILE --name --prompt-text saves a voice and prints its id", async () => {
    const r = await runCli(["clone", "me.wav", "--name", "Ann", "--prompt-text", PROMPT_TEXT], { env, cwd: dir });
    expect(r.stderr).not.toMatch(/cosyvoice:/);
    expect(r.code).toBe(0);
    voiceId = r.stdout.toString().trim();
    expect(voiceId).toMatch(/^v_[\w-]{22}$/);
    expect(lines(r.stderr)).toEqual([`waiting: uploading me.wav to ${stack.gatewayUrl}`, `saved voice ${voiceId} (Ann)`]);
  });

  it("voices lists it (tab-separated), and --json gives the gateway's objects", async () => {
    const r = await runCli(["voices"], { env });
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe(`${voiceId}\tcloned\tAnn\t${PROMPT_TEXT}\n`);
    const j = await runCli(["voices", "--json"], { env });
    expect(JSON.parse(j.stdout.toString())).toEqual([{ id: voiceId, name: "Ann", kind: "cloned", promptText: PROMPT_TEXT }]);
  });

  it("say --voice ID --out FILE writes the whole WAV, with progress lines on stderr", async () => {
    const r = await runCli(["say", "Good morning. How are you today?", "--voice", voiceId, "--out", "hello.wav", "--seed", "7"], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const info = parseWav(readFileSync(join(dir, "hello.wav")));
    expect(info.sampleRate).toBe(24_000);
    expect(info.durationMs).toBeGreaterThan(500);
    const log = lines(r.stderr);
    expect(log[0]).toBe(`waiting: ${stack.gatewayUrl} is generating`);
    expect(log[1]).toMatch(/^waiting: downloading \/audio\/a_/);
    expect(log.at(-1)).toMatch(/^wrote hello\.wav: \d+\.\d s, [\d.]+ kB \(audio a_[\w-]{22}\)$/);
    expect(r.stdout.length).toBe(0);
    // Nothing but the file: no temporary file is left beside it.
    expect(readdirSync(dir).filter((f) => f.includes("hello"))).toEqual(["hello.wav"]);
  });

  it("say --voice NAME --format aac --out - streams ADTS to stdout and counts the audio received", async () => {
    const r = await runCli(["say", "Streamed audio. In two sentences.", "--voice", "ann", "--format", "aac", "--out", "-"], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout[0]).toBe(0xff);
    expect((r.stdout[1] ?? 0) & 0xf6).toBe(0xf0);
    const log = lines(r.stderr);
    expect(log).toContain("started");
    expect(log.filter((l) => /^received \d+\.\d s of audio$/.test(l)).length).toBeGreaterThan(0);
    const wrote = /^wrote stdout: (\d+\.\d) s, .* \(audio (a_[\w-]{22})\)$/.exec(log.at(-1) ?? "");
    expect(wrote).not.toBeNull();
    // The stream is the clip the gateway stored under that id.
    const stored = await fetch(`${stack.gatewayUrl}/audio/${wrote![2]}`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(Buffer.from(await stored.arrayBuffer()).equals(r.stdout)).toBe(true);
  });

  // The gateway's own list (its encoders' table): the CLI offers exactly it, through openapi.yaml
  // and the typed client, with no list of its own.
  const served: readonly string[] = GATEWAY_FORMATS;

  it("say --help offers every format the gateway serves", async () => {
    const r = await runCli(["say", "--help"], {});
    // commander: `(choices: "mp3", "opus", ..., default: "wav")`
    const choices = /-f, --format <format>.*?\(choices: ((?:"\w+"(?:, )?)+)/.exec(r.stdout.toString().replace(/\s+/g, " "))?.[1];
    expect([...(choices ?? "").matchAll(/"(\w+)"/g)].map((m) => m[1])).toEqual(served);
    expect(served).toEqual(expect.arrayContaining(["mp3", "opus", "aac", "flac", "wav", "pcm"]));
  });

  it.each(["mp3", "opus", "flac", "pcm"])("say --format %s writes the clip in that format (ffprobe reads it)", async (format) => {
    const out = `hello.${format}`;
    const r = await runCli(["--json", "say", "One format after another.", "--voice", voiceId, "--format", format, "--out", out, "--seed", "3"], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout.toString()) as { mimeType: string; durationMs: number; bytes: number; url: string };
    expect(result.url).toContain(`?format=${format}`);
    const file = join(dir, out);
    expect(readFileSync(file).length).toBe(result.bytes);
    const input = format === "pcm" ? ["-f", "s16le", "-ar", "24000", "-ac", "1"] : [];
    const probe = spawnSync("ffprobe", ["-v", "error", ...input, "-show_entries", "stream=codec_name:format=duration", "-of", "json", file], { encoding: "utf8" });
    expect(probe.status, probe.stderr).toBe(0);
    const info = JSON.parse(probe.stdout) as { streams: { codec_name: string }[]; format: { duration: string } };
    expect(info.streams[0]?.codec_name).toBe(format === "pcm" ? "pcm_s16le" : GATEWAY_FORMAT_SPECS[format as "mp3"].codec);
    // Within a frame or two of what the gateway measured (flac streamed with unknown length: ffprobe estimates).
    if (format !== "flac") expect(Math.abs(Number(info.format.duration) * 1000 - result.durationMs)).toBeLessThan(120);
  });

  it("--format mp3 straight at a UI is a usage error naming what a UI gives", async () => {
    const r = await runCli(["--ui", "http://127.0.0.1:9", "say", "Hi.", "--format", "mp3", "--out", "x.mp3"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("cosyvoice: --format mp3 needs a gateway (it converts the audio); a web UI gives wav or aac\n");
  });

  it("--quiet prints no progress; --json prints the result object", async () => {
    const r = await runCli(["--quiet", "--json", "say", "Quiet please.", "--voice", voiceId, "--out", "q.wav"], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const result = JSON.parse(r.stdout.toString());
    expect(result).toMatchObject({ file: "q.wav", mimeType: "audio/wav", voice: voiceId, mode: "clone" });
    expect(result.bytes).toBe(readFileSync(join(dir, "q.wav")).length);
  });

  it("the flags win over the environment (--gateway, --api-key)", async () => {
    const r = await runCli(["--gateway", stack.gatewayUrl, "--api-key", KEY, "voices"], { env: { COSYVOICE_GATEWAY: "http://127.0.0.1:9", COSYVOICE_API_KEY: "wrong-key-wrong-key-wrong" } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toContain(voiceId);
  });

  it("rm ID deletes it; it is gone from voices; a second rm is 'not found' (4)", async () => {
    const r = await runCli(["rm", voiceId], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(`deleted ${voiceId}\n`);
    expect((await runCli(["voices", "--quiet"], { env })).stdout.toString()).toBe("");
    const again = await runCli(["rm", voiceId], { env });
    expect(again.code).toBe(4);
    expect(lines(again.stderr)).toHaveLength(1);
    expect(again.stderr).toMatch(/^cosyvoice: No such voice: .*\[voice-not-found, HTTP 404\]\n$/);
    expect(hasStack(again.stderr)).toBe(false);
    expect(existsSync(join(dir, "hello.wav"))).toBe(true);
  });
});
