/**
 * The CLI straight at a CosyVoice web UI (the real stand-in of the Fun-CosyVoice3 English UI)
 * through the SDK: clone and cross-lingual from --prompt-audio, the typed instruct flags reaching
 * the UI as CosyVoice3's instruction sentence, AAC streamed to stdout, and the progress the SDK
 * sees (queue position, start, each chunk) as plain lines, or as a bar on a terminal.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseWav, readRecord, startStandin, synthWav, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_COMMAND, CLI_TSCONFIG, lines, runCli, workDir } from "./helpers/cli.ts";

const PROMPT_TEXT = "Hello, this is my voice for the command line test.";

describe("cosyvoice --ui (straight at a Gradio web UI)", () => {
  let ui: StandinHandle;
  let dir: string;
  let base: string[];

  beforeAll(async () => {
    ui = await startStandin({ variant: "cv3-en", model: "cosyvoice3", chunkDelayMs: 100 });
    dir = workDir();
    writeFileSync(join(dir, "me.wav"), synthWav({ sampleRate: 24_000, seconds: 3, f0: 200 }));
    base = ["--ui", ui.url, "say"];
  });
  afterAll(() => ui?.stop());

  const calls = () => readRecord(ui.record).filter((e) => e.event === "call" && e["fn"] === "generate_audio");

  it("clone: --prompt-audio and --prompt-text, the whole WAV to a file, progress from the SDK", async () => {
    const r = await runCli([...base, "First sentence. Second sentence.", "--prompt-audio", "me.wav", "--prompt-text", PROMPT_TEXT, "--out", "clone.wav", "--seed", "5"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(parseWav(readFileSync(join(dir, "clone.wav"))).sampleRate).toBe(24_000);
    const log = lines(r.stderr);
    expect(log[0]).toBe(`waiting: connecting to ${ui.url}`);
    expect(log.some((l) => /^queued: position 1 of \d+(, eta \d+\.\d s)?$/.test(l))).toBe(true);
    expect(log).toContain("started");
    expect(log.filter((l) => /^chunk \d+: \d+\.\d s of audio$/.test(l))).toHaveLength(2);
    expect(log.at(-1)).toMatch(/^wrote clone\.wav: \d+\.\d s, [\d.]+ kB$/);
    const call = calls().at(-1)!;
    const inputs = call["inputs"] as Record<string, { value: unknown }>;
    expect(JSON.stringify(inputs)).toContain(PROMPT_TEXT);
    expect(JSON.stringify(inputs)).toContain("3s Zero-Shot");
  });

  it("the typed instruct flags become CosyVoice3's instruction sentence", async () => {
    const r = await runCli([...base, "今天天气真好。", "--prompt-audio", "me.wav", "--dialect", "sichuan", "--emotion", "happy", "--out", "i.wav"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const inputs = JSON.stringify(calls().at(-1)!["inputs"]);
    expect(inputs).toContain("请用四川话表达。请非常开心地说一句话。<|endofprompt|>");
    expect(inputs).toContain("Instruct");
  });

  it("--instruct free text goes through as written (wrapped for CosyVoice3)", async () => {
    const r = await runCli([...base, "Slowly now.", "--prompt-audio", "me.wav", "--instruct", "Speak slowly and softly.", "--out", "f.wav", "--quiet"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(JSON.stringify(calls().at(-1)!["inputs"])).toContain("You are a helpful assistant. Speak slowly and softly.<|endofprompt|>");
  });

  it("cross-lingual (no --prompt-text) streamed as AAC to stdout", async () => {
    const r = await runCli([...base, "<|en|>Cross lingual. Streamed.", "--prompt-audio", "me.wav", "--format", "aac", "--out", "-"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout[0]).toBe(0xff);
    const probe = spawnSync("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,sample_rate", "-of", "json", "-"], { input: r.stdout });
    expect(JSON.parse(probe.stdout.toString()).streams[0]).toMatchObject({ codec_name: "aac", sample_rate: "24000" });
    expect(JSON.stringify(calls().at(-1)!["inputs"])).toContain("Cross-Lingual");
    expect(lines(r.stderr).filter((l) => l.startsWith("chunk "))).toHaveLength(2);
  });

  it("on a terminal, progress is a bar redrawn in place, cleared at the end", async () => {
    // `script` gives the CLI a pseudo-terminal, as a person's shell would.
    const cmd = [...CLI_COMMAND, ...base, "One. Two. Three.", "--prompt-audio", "me.wav", "--out", "tty.wav"].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
    const r = spawnSync("script", ["-qfec", cmd, "/dev/null"], { cwd: dir, env: { ...process.env, TSX_TSCONFIG_PATH: CLI_TSCONFIG, TERM: "xterm" }, timeout: 60_000 });
    const screen = r.stdout.toString();
    expect(r.status, screen).toBe(0);
    expect(screen).toContain("█");
    expect(screen).toContain("░");
    expect(screen).toContain("\u001b[1G"); // the cursor goes back to redraw the bar
    expect(screen).toMatch(/chunk 3: \d+\.\d s of audio/);
    expect(screen).toMatch(/wrote tty\.wav/);
    expect(screen).not.toMatch(/^chunk 1: /m); // not the line-per-event form
  });

  it("clone and rm are for a gateway: a usage error (2) that says so", async () => {
    const c = await runCli(["--ui", ui.url, "clone", "me.wav", "--name", "X"], { cwd: dir });
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/^cosyvoice: clone saves a voice on a gateway/);
    const r = await runCli(["--ui", ui.url, "rm", "v_x"]);
    expect(r.code).toBe(2);
    const s = await runCli([...base, "No prompt."]);
    expect(s.code).toBe(2);
    expect(s.stderr).toBe("cosyvoice: --prompt-audio FILE is required with --ui (clone and cross-lingual modes)\n".replace(/^/, "waiting: connecting to " + ui.url + "\n"));
  });
});
