/**
 * Every failure is one line on stderr (or one JSON object with --json) and the exit code the
 * README's table gives it, never a stack trace; a failure leaves no half-written --out file.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, startStandin, synthWav } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, hasStack, lines, runCli, workDir, type CliRun } from "./helpers/cli.ts";
import { startStack, type Stack } from "./helpers/stack.ts";

const KEY = "cli-errors-key-0123456789abcdef";

function expectOneLine(r: CliRun, code: number, re: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const errors = lines(r.stderr).filter((l) => l.startsWith("cosyvoice: "));
  expect(errors, r.stderr).toHaveLength(1);
  expect(errors[0]).toMatch(re);
  expect(hasStack(r.stderr), r.stderr).toBe(false);
}

describe("errors and exit codes", () => {
  let stack: Stack;
  let dir: string;
  let env: Record<string, string>;
  let voice: string;

  beforeAll(async () => {
    // One job at a time and no wait list, with a slow first chunk: a second job is refused (503).
    stack = await startStack({ firstChunkDelayMs: 2_500 }, { apiKeys: [KEY], concurrency: 1, queueSize: 0 });
    dir = workDir();
    writeFileSync(join(dir, "me.wav"), synthWav({ sampleRate: 24_000, seconds: 3, f0: 150 }));
    writeFileSync(join(dir, "notes.txt"), "this is not audio, only text that pretends to be a file");
    env = { COSYVOICE_GATEWAY: stack.gatewayUrl, COSYVOICE_API_KEY: KEY };
    const r = await runCli(["clone", "me.wav", "--name", "Err", "--prompt-text", "Hello there, this is me.", "--quiet"], { env, cwd: dir });
    voice = r.stdout.toString().trim();
  });
  afterAll(() => stack?.close());

  it("2: usage errors (unknown flag, missing argument, bad number, bad choice, conflicting flags)", async () => {
    expectOneLine(await runCli(["say", "hi", "--bogus"], { env }), 2, /^cosyvoice: unknown option '--bogus'/);
    expectOneLine(await runCli(["say"], { env }), 2, /^cosyvoice: missing required argument 'text'/);
    expectOneLine(await runCli(["say", "hi", "--speed", "7"], { env }), 2, /--speed must be a number from 0\.5 to 2/);
    expectOneLine(await runCli(["say", "hi", "--emotion", "excited"], { env }), 2, /Allowed choices are happy, sad, angry/);
    expectOneLine(await runCli(["say", "hi", "--voice", voice, "--instruct", "Softly.", "--pace", "slow"], { env }), 2, /either-or/);
    expectOneLine(await runCli(["say", "hi"], { env }), 2, /--voice is required with a gateway/);
    expectOneLine(await runCli(["frobnicate"], { env }), 2, /unknown command 'frobnicate'/);
  });

  it("3: the gateway refused the input (not audio; bad field with its pointer)", async () => {
    expectOneLine(await runCli(["clone", "notes.txt", "--name", "Txt"], { env, cwd: dir }), 3, /\[not-audio, HTTP 415\]$/);
    expectOneLine(await runCli(["say", "   ", "--voice", voice], { env, cwd: dir }), 3, /\/text: .*\[invalid-request, HTTP 400\]$/);
  });

  it("4: no such voice (id or name)", async () => {
    expectOneLine(await runCli(["say", "hi", "--voice", "v_0000000000000000000000"], { env }), 4, /\[voice-not-found, HTTP 404\]$/);
    expectOneLine(await runCli(["say", "hi", "--voice", "Nobody"], { env }), 4, /no voice with id or name "Nobody"/);
  });

  it("5: a missing or wrong API key", async () => {
    expectOneLine(await runCli(["voices"], { env: { COSYVOICE_GATEWAY: stack.gatewayUrl } }), 5, /\[unauthorized, HTTP 401\]$/);
    expectOneLine(await runCli(["voices", "--api-key", "not-the-key-not-the-key"], { env }), 5, /The API key is not valid/);
  });

  it("6: the gateway is busy (503 with Retry-After) while another job runs", async () => {
    const first = cli(["say", "A slow one.", "--voice", voice, "--out", "first.wav"], { env, cwd: dir });
    await first.waitForStderr(/is generating/);
    await new Promise((r) => setTimeout(r, 500));
    const busy = await runCli(["say", "Refused.", "--voice", voice, "--out", "second.wav"], { env, cwd: dir });
    expectOneLine(busy, 6, /\(retry in \d+ s\) \[busy, HTTP 503\]$/);
    expect((await first.done).code).toBe(0);
    expect(readdirSync(dir).filter((f) => f.startsWith("second") || f.includes(".part"))).toEqual([]);
  });

  it("7: the gateway cannot be reached", async () => {
    const port = await freePort();
    expectOneLine(await runCli(["voices", "--gateway", `http://127.0.0.1:${port}`]), 7, /^cosyvoice: Cannot reach the gateway/);
  });

  it("10: a prompt file that does not exist, an --out folder that does not exist", async () => {
    expectOneLine(await runCli(["clone", "missing.wav", "--name", "M"], { env, cwd: dir }), 10, /missing\.wav: open failed \(ENOENT\)/);
    expectOneLine(await runCli(["say", "hi", "--voice", voice, "--out", "no/such/dir/x.wav"], { env, cwd: dir }), 10, /ENOENT/);
  });

  it("--json: the error as one JSON object on stderr", async () => {
    const r = await runCli(["--json", "say", "hi", "--voice", "v_0000000000000000000000", "--out", "j.wav"], { env, cwd: dir });
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stderr.trim().split("\n").at(-1)!)).toMatchObject({ error: { kind: "voice-not-found", exitCode: 4 } });
    expect(readdirSync(dir).filter((f) => f.startsWith("j.wav") || f.includes("j.wav"))).toEqual([]);
  });

  it("help and version exit 0", async () => {
    const h = await runCli(["say", "--help"]);
    expect(h.code).toBe(0);
    expect(h.stdout.toString()).toContain("--prompt-audio <file>");
    const v = await runCli(["--version"]);
    expect(v.stdout.toString().trim()).toBe(JSON.parse(readFileSync(join(import.meta.dirname, "../package.json"), "utf8")).version);
  });
});

describe("a UI that dies mid-stream", () => {
  it("is exit 7 with one line, and leaves neither the --out file nor a temporary file", async () => {
    const ui = await startStandin({ variant: "official", model: "cosyvoice3", crashAfterChunks: 1, chunkDelayMs: 300 });
    try {
      const dir = workDir();
      writeFileSync(join(dir, "me.wav"), synthWav({ sampleRate: 24_000, seconds: 3, f0: 150 }));
      const r = await runCli(["--ui", ui.url, "say", "One sentence. Two sentences. Three sentences.", "--prompt-audio", "me.wav", "--format", "aac", "--out", "cut.aac"], { cwd: dir });
      expectOneLine(r, 7, /\[connection\]$/);
      expect(lines(r.stderr)).toContain("started");
      expect(readdirSync(dir)).toEqual(["me.wav"]);
    } finally {
      await ui.stop();
    }
  });
});
