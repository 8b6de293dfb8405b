/**
 * The gateway README's Python `gradio_client` example, run as written (only the gateway's
 * address changed) against the real stand-in (CosyVoice's official UI with a CosyVoice3 model)
 * behind a routes file, from a directory holding the README's own prompt.wav. It once failed
 * twice over: no CosyVoice3 prompt prefix ("<|endofprompt|> not detected") and gradio 5.4's 403
 * on a streamed output without `download_files=False`.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseWav, readRecord, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBoxes, startRoutedGateway, tempRoot, type RoutedGateway } from "./helpers/passthrough.ts";

const PYTHON = resolve(import.meta.dirname, "../../standin/.venv/bin/python");
const README = readFileSync(resolve(import.meta.dirname, "../README.md"), "utf8");
/** The example: the python block of the article's step-by-step, its indentation removed. */
const block = /^( *)```python\n([\s\S]*?)^\1```/m.exec(README);
const example = block ? block[2]!.split("\n").map((l) => l.slice(block[1]!.length)).join("\n") : "";
/** The README's own prompt: its `espeak-ng -w prompt.wav "..."` line. */
const promptLine = /^espeak-ng -w prompt\.wav "([^"]+)"/m.exec(README);

/** Runs a script with the stand-in's venv (not spawnSync: the gateway answering it runs in this process). */
async function python(script: string): Promise<{ stdout: string; stderr: string; status: number | null }> {
  const child = spawn(PYTHON, [script], { cwd: dirname(script), timeout: 60_000 });
  const run = { stdout: "", stderr: "", status: null as number | null };
  child.stdout.on("data", (b: Buffer) => (run.stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (run.stderr += b.toString()));
  run.status = await new Promise<number | null>((r) => child.once("close", r));
  return run;
}

describe.skipIf(!existsSync(PYTHON))("the README's gradio_client example", () => {
  const tmp = tempRoot("readme-python-");
  let box: StandinHandle;
  let g: RoutedGateway;

  beforeAll(async () => {
    [box] = (await startBoxes(tmp.root, 1)) as [StandinHandle];
    g = await startRoutedGateway(tmp.root, `routes:\n  - path: /cosyvoice/\n    kind: gradio\n    backends: ["${box.url}"]\n`);
  });
  afterAll(async () => {
    await g?.close();
    await box?.stop();
    tmp.cleanup();
  });

  it("is in the README, uses the README's prompt, and points at the gateway's /cosyvoice/", () => {
    expect(example).toContain('Client("http://127.0.0.1:5000/cosyvoice/", download_files=False)');
    expect(promptLine).not.toBeNull();
    // The transcript it sends after the prefix is what the README's prompt.wav says.
    expect(example.replace(/"\s*\n\s*"/g, "")).toContain(`<|endofprompt|>${promptLine![1]}`);
  });

  it("runs as written and prints the clip's URL; the clip is speech from the UI behind the gateway", async () => {
    execFileSync("espeak-ng", ["-w", join(tmp.root, "prompt.wav"), promptLine![1]!]);
    const script = join(tmp.root, "example.py");
    writeFileSync(script, example.replaceAll("http://127.0.0.1:5000", g.url));
    const run = await python(script);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    // gradio_client prints "Loaded as API: <url> ✔" first; the example's own line is the last.
    const url = run.stdout.trim().split("\n").at(-1) ?? "";
    expect(url.startsWith(`${g.url}/cosyvoice/gradio_api/stream/`)).toBe(true);
    expect(url.endsWith("/playlist-file")).toBe(true);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const wav = parseWav(Buffer.from(await res.arrayBuffer()));
    expect(wav.sampleRate).toBe(24_000);
    expect(wav.durationMs).toBeGreaterThan(1_000);
    // The UI behind the gateway ran the clone with the prefixed transcript and the uploaded prompt.
    const call = readRecord(box.record).findLast((e) => e.event === "call" && e["fn"] === "generate_audio");
    expect(JSON.stringify(call?.["inputs"])).toContain("You are a helpful assistant.<|endofprompt|>Hello, this is my voice.");
    expect(readRecord(box.record).some((e) => e.event === "done" && e["job"] === call?.["job"])).toBe(true);
  });

  it("needs both of its fixes: without the prefix the model refuses, without download_files=False gradio answers 403", async () => {
    const script = (name: string, text: string) => {
      const file = join(tmp.root, name);
      writeFileSync(file, text.replaceAll("http://127.0.0.1:5000", g.url));
      return file;
    };
    const noPrefix = await python(script("no-prefix.py", example.replace('"You are a helpful assistant.<|endofprompt|>"\n', "")));
    expect(noPrefix.status).not.toBe(0);
    expect(noPrefix.stderr).not.toMatch(/SyntaxError/);
    const failed = readRecord(box.record).filter((e) => e.event === "error").at(-1);
    expect(String(failed?.["message"])).toContain("<|endofprompt|> not detected");
    const noDownloadFlag = await python(script("downloads.py", example.replace(", download_files=False", "")));
    expect(noDownloadFlag.status).not.toBe(0);
    expect(noDownloadFlag.stderr).toMatch(/403/);
  });
});
