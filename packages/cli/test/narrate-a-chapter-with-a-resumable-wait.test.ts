/**
 * `cosyvoice narrate chapter.txt --voice Me --out chapter.mp3` against the real gateway and
 * stand-in: progress of the job's segments on stderr, the MP3 and SRT captions written. Ctrl-C
 * stops waiting but leaves the job running; the same command then resumes the wait on that job
 * (it does not submit the text again), and the audio is whole.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { readRecord, synthWav } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, hasStack, lines, runCli, workDir } from "./helpers/cli.ts";
import { startStack, type Stack } from "./helpers/stack.ts";

/** ffprobe's reading of an audio file's duration. @unit milliseconds */
function probeMs(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file]);
    let out = "";
    p.stdout.on("data", (b: Buffer) => (out += b.toString()));
    p.on("error", reject);
    p.on("close", () => resolve(Number(out.trim()) * 1000));
  });
}

const chapter = (n: number) => Array.from({ length: n }, (_, i) => `This is sentence ${i + 1} of the chapter, read aloud.`).join(" ");

describe("cosyvoice narrate", { timeout: 300_000 }, () => {
  let stack: Stack;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    stack = await startStack({ chunkDelayMs: 150 }, { jobs: { ...(await import("cosyvoice3-gateway")).defaultConfig().jobs, segmentChars: 120 } });
    dir = workDir();
    env = { COSYVOICE_GATEWAY: stack.gatewayUrl };
    writeFileSync(join(dir, "me.wav"), synthWav({ sampleRate: 24_000, seconds: 3, f0: 170 }));
    const r = await runCli(["clone", "me.wav", "--name", "Me", "--prompt-text", "Hello there, this is me.", "--quiet"], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => stack?.close());

  it("narrate chapter.txt --voice Me --out chapter.mp3 --captions chapter.srt writes both, with segment progress", async () => {
    writeFileSync(join(dir, "chapter.txt"), chapter(8));
    const r = await runCli(["narrate", "chapter.txt", "--voice", "Me", "--out", "chapter.mp3", "--captions", "chapter.srt"], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(hasStack(r.stderr)).toBe(false);
    const log = lines(r.stderr);
    expect(log[0]).toMatch(/^waiting: submitting \d+ characters to /);
    expect(log.some((l) => /^running: \d+ of \d+ segments$/.test(l))).toBe(true);
    expect(log.at(-1)).toMatch(/^wrote chapter\.mp3: \d+\.\d s, [\d.]+ kB, \d+ segments; captions chapter\.srt$/);
    const ms = await probeMs(join(dir, "chapter.mp3"));
    expect(ms).toBeGreaterThan(3_000);
    const srt = readFileSync(join(dir, "chapter.srt"), "utf8");
    expect(srt.split("\n\n").filter((b) => b.trim() !== "")).toHaveLength(8);
    expect(srt).toMatch(/^1\n00:00:00,000 --> /);
    // Nothing left to resume.
    expect(existsSync(join(dir, "chapter.mp3.job.json"))).toBe(false);
  });

  it("Ctrl-C stops waiting and leaves the job running; the same command resumes it without submitting again", async () => {
    writeFileSync(join(dir, "book.txt"), chapter(24));
    const args = ["narrate", "book.txt", "--voice", "Me", "--out", "book.wav"];
    const first = cli(args, { env, cwd: dir });
    await first.waitForStderr(/running: [1-9]\d* of \d+ segments/, 120_000);
    first.child.kill("SIGINT");
    const stopped = await first.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    const last = lines(stopped.stderr).at(-1) ?? "";
    expect(last).toMatch(/^cosyvoice: stopped waiting; job (j_[\w-]{22}) goes on: run the same command again to resume/);
    const id = /job (j_[\w-]{22})/.exec(last)![1]!;
    expect(JSON.parse(readFileSync(join(dir, "book.wav.job.json"), "utf8")).job).toBe(id);
    expect(existsSync(join(dir, "book.wav"))).toBe(false);
    const submitted = () => readRecord(stack.standin.record).filter((e) => e.event === "call").length;
    const callsAtStop = submitted();

    const second = await runCli(args, { env, cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`resuming job ${id}`);
    expect(lines(second.stderr).at(-1)).toMatch(/\(resumed\)$/);
    expect(second.stderr).not.toMatch(/submitting/);
    const wav = readFileSync(join(dir, "book.wav"));
    expect(wav.subarray(0, 4).toString("ascii")).toBe("RIFF");
    // The job went on while nobody waited, and was not submitted twice: its segments, once each.
    const spoken = readRecord(stack.standin.record).filter((e) => e.event === "call").map((e) => (e["inputs"] as Record<string, { value: string }>)["tts_text"]?.value);
    expect(spoken.filter((t) => t?.includes("sentence 24 of the chapter"))).toHaveLength(1);
    expect(submitted()).toBeGreaterThanOrEqual(callsAtStop);
  });
});
