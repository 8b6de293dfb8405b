/**
 * Ctrl-C (SIGINT to the CLI's process) while a synthesis runs cancels the job upstream, seen in
 * the stand-in's record as `cancelled` with fewer chunks than the text has sentences, exits 130
 * with one line, and leaves no --out file: straight at the UI (the SDK cancels the Gradio job)
 * and through the gateway (the dropped request makes the gateway cancel it), streamed or not.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readRecord, synthWav, waitForRecord, type RecordEntry } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, hasStack, workDir } from "./helpers/cli.ts";
import { startStack, type Stack } from "./helpers/stack.ts";

const TEXT = "One sentence. Two sentences. Three sentences. Four sentences. Five sentences. Six sentences.";

describe("Ctrl-C cancels the upstream job", () => {
  let stack: Stack;
  let dir: string;
  let voice: string;

  beforeAll(async () => {
    stack = await startStack({ chunkDelayMs: 600 });
    dir = workDir();
    writeFileSync(join(dir, "me.wav"), synthWav({ sampleRate: 24_000, seconds: 3, f0: 190 }));
    const clone = cli(["clone", "me.wav", "--name", "Sig", "--prompt-text", "Hello there, this is me.", "--quiet"], { env: { COSYVOICE_GATEWAY: stack.gatewayUrl }, cwd: dir });
    voice = (await clone.done).stdout.toString().trim();
  });
  afterAll(() => stack?.close());

  /** The record's entries of the newest generate_audio job. */
  function lastJob(): { job: string; entries: RecordEntry[] } {
    const record = readRecord(stack.standin.record);
    const job = String(record.filter((e) => e.event === "call" && e["fn"] === "generate_audio").at(-1)?.["job"]);
    return { job, entries: record.filter((e) => e["job"] === job) };
  }

  async function interruptAndCheck(args: string[], when: RegExp, out: string): Promise<void> {
    const before = readRecord(stack.standin.record).filter((e) => e.event === "cancelled").length;
    const run = cli(args, { env: { COSYVOICE_GATEWAY: stack.gatewayUrl }, cwd: dir });
    await run.waitForStderr(when);
    // The job is running on the UI: at least one chunk made.
    await waitForRecord(stack.standin.record, (r) => r.filter((e) => e.event === "chunk").length > 0 && r.at(-1)?.event === "chunk");
    run.child.kill("SIGINT");
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr.trimEnd().split("\n").at(-1)).toBe("cosyvoice: cancelled");
    expect(hasStack(r.stderr)).toBe(false);
    await waitForRecord(stack.standin.record, (rec) => rec.filter((e) => e.event === "cancelled").length > before, 10_000);
    const { entries } = lastJob();
    expect(entries.map((e) => e.event)).toContain("cancelled");
    expect(entries.filter((e) => e.event === "chunk").length).toBeLessThan(6);
    expect(entries.map((e) => e.event)).not.toContain("done");
    expect(readdirSync(dir).filter((f) => f.includes(out))).toEqual([]);
  }

  it("straight at the UI (--ui, whole WAV)", async () => {
    await interruptAndCheck(["--ui", stack.standin.url, "say", TEXT, "--prompt-audio", "me.wav", "--out", "ui.wav"], /^chunk 1: /m, "ui.wav");
  });

  it("through the gateway, streamed (--format aac)", async () => {
    await interruptAndCheck(["say", TEXT, "--voice", voice, "--format", "aac", "--out", "gw.aac"], /^received /m, "gw.aac");
  });

  it("through the gateway, whole clip (waiting for the 201)", async () => {
    await interruptAndCheck(["say", TEXT, "--voice", voice, "--out", "gw.wav"], /is generating/, "gw.wav");
  });
});
