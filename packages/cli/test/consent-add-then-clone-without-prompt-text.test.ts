/**
 * `cosyvoice consent add FILE --name --language` records a speaker's consent on the gateway and
 * prints its id; `cosyvoice clone FILE --name --consent ID` saves a voice under it. Without
 * `--prompt-text`, on a gateway without speech recognition, the CLI says the voice will not do
 * clone mode; a gateway that requires consent refuses a clone without one, naming `consent`.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startStandin, synthWav, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lines, runCli, workDir } from "./helpers/cli.ts";
import { startStack, type Stack } from "./helpers/stack.ts";

describe("cosyvoice consent add, then clone under it", () => {
  let stack: Stack;
  let dir: string;
  let env: Record<string, string>;
  let consentId: string;
  beforeAll(async () => {
    stack = await startStack({}, { voiceConsent: "required" });
    dir = workDir();
    writeFileSync(join(dir, "consent.wav"), synthWav({ sampleRate: 16_000, seconds: 2, f0: 150 }));
    writeFileSync(join(dir, "me.wav"), synthWav({ sampleRate: 24_000, seconds: 3, f0: 160 }));
    env = { COSYVOICE_GATEWAY: stack.gatewayUrl };
  });
  afterAll(() => stack?.close());

  it("consent add prints the consent's id", async () => {
    const r = await runCli(["consent", "add", "consent.wav", "--name", "Ann", "--language", "en-US"], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    consentId = r.stdout.toString().trim();
    expect(consentId).toMatch(/^cons_[\w-]{22}$/);
    expect(lines(r.stderr).at(-1)).toBe(`recorded consent ${consentId} (Ann, en-US)`);
  });

  it("consent add with a bad language tag: the gateway's message naming language, exit code for bad input", async () => {
    const r = await runCli(["consent", "add", "consent.wav", "--name", "Ann", "--language", "english!"], { env, cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/language/);
  });

  it("clone without --consent where it is required: refused, naming consent", async () => {
    const r = await runCli(["clone", "me.wav", "--name", "Ann"], { env, cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/consent is required/);
  });

  it("clone --consent without --prompt-text: saved, with a note that this gateway cannot transcribe", async () => {
    const r = await runCli(["clone", "me.wav", "--name", "Ann", "--consent", consentId, "--json"], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no --prompt-text and the gateway has no speech recognition/);
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ name: "Ann", kind: "cloned", consent: consentId });
  });
});

describe("cosyvoice clone without --prompt-text on a gateway that transcribes", () => {
  let asr: StandinHandle;
  let stack: Stack;
  let dir: string;
  beforeAll(async () => {
    asr = await startStandin({ serve: "asr" });
    stack = await startStack({}, { asr: { url: `${asr.url}/v1`, model: "whisper-1", timeoutMs: 30_000 } });
    dir = workDir();
    // espeak-ng's f3 voice, which the ASR stand-in hears word for word.
    execFileSync("espeak-ng", ["-v", "en-us+f3", "-s", "150", "-w", join(dir, "me.wav"), "Please call me tomorrow morning."]);
  });
  afterAll(async () => {
    await stack?.close();
    await asr?.stop();
  });

  it("saves the voice with the words the gateway heard, and says them", async () => {
    const r = await runCli(["clone", "me.wav", "--name", "Heard", "--json"], { env: { COSYVOICE_GATEWAY: stack.gatewayUrl }, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/no speech recognition/);
    expect(r.stderr).toContain('the gateway heard: "please call me tomorrow morning"');
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ name: "Heard", promptText: "please call me tomorrow morning", promptTextSource: "asr" });
  });
});
