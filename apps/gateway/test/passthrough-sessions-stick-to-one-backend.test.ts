/**
 * Sessions stick without cookies. Two stand-in boxes behind `/cosyvoice/` (each keeping its
 * uploads in its own directory, as two GPU boxes do), and many sessions at once from Python's
 * `gradio_client` and from `@gradio/client`, neither of which keeps cookies: every job
 * completes, the sessions spread over both boxes, and each session's upload, join, event
 * stream and output live on one box (the stand-ins' records say which session each job came
 * from, and a job whose prompt landed on the other box would have found no file). A box that
 * goes down gets no new sessions.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { Client, handle_file } from "@gradio/client";
import { joinQueue, openQueueStream, readRecord, synthWav, uploadFile, type RecordEntry, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCloneSession, startBoxes, startRoutedGateway, tempRoot, type RoutedGateway } from "./helpers/passthrough.ts";

const PYTHON = resolve(import.meta.dirname, "../../standin/.venv/bin/python");
const SCRIPT = resolve(import.meta.dirname, "fixtures/gradio_client_predict.py");
const PROMPT_TEXT = "You are a helpful assistant.<|endofprompt|>This is my voice.";

interface FileData {
  path: string;
  url: string;
  is_stream?: boolean;
}

const calls = (box: StandinHandle): RecordEntry[] => readRecord(box.record).filter((e) => e.event === "call" && e["fn"] === "generate_audio");

describe("Gradio sessions through /cosyvoice/ stick to one of two backends", () => {
  const tmp = tempRoot("passthrough-affinity-");
  let boxes: StandinHandle[];
  let g: RoutedGateway;
  let prompt: string;

  beforeAll(async () => {
    boxes = await startBoxes(tmp.root, 2);
    prompt = join(tmp.root, "prompt.wav");
    writeFileSync(prompt, synthWav({ sampleRate: 24_000, seconds: 3, f0: 170 }));
    // The article's balancer (round-robin), over both boxes, found to be Gradio by itself.
    g = await startRoutedGateway(tmp.root, `routes:\n  - path: /cosyvoice/\n    balancer: round-robin\n    backends: ["${boxes[0]?.url}", "${boxes[1]?.url}"]\n`, {
      concurrency: 2,
      queueSize: 4,
    });
  });
  afterAll(async () => {
    await g?.close();
    await Promise.all((boxes ?? []).map((b) => b.stop()));
    tmp.cleanup();
  });

  it("six Python gradio_client sessions at once all complete, each on one box, spread over both", async () => {
    const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, `${g.url}/cosyvoice/`, "6", prompt], { timeout: 120_000 });
    const results = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { session: string; text: string; output: FileData });
    expect(results).toHaveLength(6);
    // Output URLs point through the gateway, under the prefix.
    for (const r of results) expect(r.output.url.startsWith(`${g.url}/cosyvoice/gradio_api/stream/`)).toBe(true);
    // ... and they play: the HLS playlist ends, its WAV rendition is there, both on the right box.
    for (const r of results) {
      const playlist = await (await fetch(r.output.url)).text();
      expect(playlist.trimEnd().endsWith("#EXT-X-ENDLIST")).toBe(true);
      expect((await fetch(r.output.url.replace(/playlist\.m3u8$/, "playlist-file"))).status).toBe(200);
    }
    assertSticky(results.map((r) => r.session));
  });

  it("six @gradio/client sessions at once all complete, each on one box, spread over both", async () => {
    const wav = synthWav({ sampleRate: 24_000, seconds: 3, f0: 200 });
    const run = async (i: number) => {
      const client = await Client.connect(`${g.url}/cosyvoice/`);
      try {
        const file = handle_file(new File([new Uint8Array(wav)], `prompt-${i}.wav`, { type: "audio/wav" }));
        const text = `Node session ${i} speaks through the gateway.`;
        const out = await client.predict("/generate_audio", [text, "3s极速复刻", "", PROMPT_TEXT, file, null, "", i, false, 1]);
        const fd = (out.data as FileData[])[0];
        if (!fd) throw new Error("no output");
        const playlist = await (await fetch(fd.url)).text();
        return { session: (client as unknown as { session_hash: string }).session_hash, fd, playlist };
      } finally {
        client.close();
      }
    };
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => run(i)));
    for (const r of results) {
      expect(r.fd.url.startsWith(`${g.url}/cosyvoice/gradio_api/stream/`)).toBe(true);
      expect(r.playlist.trimEnd().endsWith("#EXT-X-ENDLIST")).toBe(true);
    }
    assertSticky(results.map((r) => r.session));
  });

  it("an upload that landed on the other box is copied to the session's box before its join", async () => {
    const session = "copy-me-session";
    // Round-robin: the heartbeat (first request of the session) takes one box, the upload the other.
    const ac = new AbortController();
    const hb = await fetch(`${g.url}/cosyvoice/gradio_api/heartbeat/${session}`, { signal: ac.signal });
    expect(hb.status).toBe(200);
    const before = g.logged("upload copied").length;
    const file = await uploadFile(`${g.url}/cosyvoice`, synthWav({ sampleRate: 24_000, seconds: 3, f0: 150 }), "copied.wav", "audio/wav");
    const join = await joinQueue(`${g.url}/cosyvoice`, {
      fn_index: 1,
      session_hash: session,
      data: ["The file came from the other box.", "3s极速复刻", "", PROMPT_TEXT, file, null, "", 0, false, 1],
    });
    expect(join.ok).toBe(true);
    const stream = await openQueueStream(`${g.url}/cosyvoice`, session);
    const done = await stream.waitFor((m) => m.msg === "process_completed");
    stream.close();
    ac.abort();
    expect(done["success"]).toBe(true);
    expect(g.logged("upload copied").length).toBe(before + 1);
    const mine = [...calls(boxes[0] as StandinHandle), ...calls(boxes[1] as StandinHandle)].filter((c) => c["session_hash"] === session);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.["prompt_wav_upload"]).toMatchObject({ sample_rate: 24_000 });
  });

  it("a box that goes down gets no new sessions, and the page keeps loading", async () => {
    const [a, b] = boxes as [StandinHandle, StandinHandle];
    await b.stop();
    // Before any check has seen it go: a request tied to no box is tried on the other one.
    for (let i = 0; i < 4; i++) expect((await fetch(`${g.url}/cosyvoice/config`)).status).toBe(200);
    const deadline = Date.now() + 5_000;
    while (g.gw.passthrough?.registry.get(b.url)?.health !== "down" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const results = await Promise.all([0, 1, 2].map((i) => runCloneSession(`${g.url}/cosyvoice`, `after-down-${i}`, `Box B is gone, session ${i}.`)));
    expect(results.filter((r) => !r.success)).toEqual([]);
    const onA = new Set(calls(a).map((c) => c["session_hash"]));
    for (const r of results) expect(onA.has(r.session)).toBe(true);
  });

  /** Every session's jobs ran on exactly one box, with its prompt found there; both boxes worked. */
  function assertSticky(sessions: string[]): void {
    const [a, b] = boxes as [StandinHandle, StandinHandle];
    const onA = new Set(calls(a).map((c) => c["session_hash"] as string));
    const onB = new Set(calls(b).map((c) => c["session_hash"] as string));
    for (const s of sessions) {
      expect([onA.has(s), onB.has(s)].filter(Boolean)).toHaveLength(1);
    }
    expect(sessions.filter((s) => onA.has(s)).length).toBeGreaterThan(0);
    expect(sessions.filter((s) => onB.has(s)).length).toBeGreaterThan(0);
    // The prompt reached the job's own box: the UI read it (a path on the other box would be null or an error).
    for (const c of [...calls(a), ...calls(b)].filter((c) => sessions.includes(c["session_hash"] as string))) {
      expect(c["prompt_wav_upload"]).toMatchObject({ sample_rate: 24_000 });
    }
    // No job failed on either box.
    for (const box of boxes) expect(readRecord(box.record).filter((e) => e.event === "error")).toEqual([]);
  }
});
