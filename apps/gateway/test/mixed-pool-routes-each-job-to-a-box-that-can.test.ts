// One pool of boxes of different kinds (the Gradio web UI, the official FastAPI and gRPC servers,
// each named by its scheme): every box serves, and a job goes only to a box that can do it
// (instruct with prompt audio is instruct2, on the FastAPI box's CosyVoice3 only: neither the
// official UI with CosyVoice3 nor the gRPC server has it). A FastAPI box that dies mid-stream
// before any audio reached the caller has the job run once more elsewhere (issue 19); after
// audio went out the caller's stream breaks off; the next jobs fail over to a live box.
import { readRecord, startStandin, synthWav, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonPost, voiceForm } from "./helpers/harness.ts";
import { failovers, resends, startPoolGateway, type PoolGateway } from "./helpers/pool-stack.ts";

const TEXT = "The sky is clear today. Let us go for a walk.";
const fastapiCalls = (record: string) => readRecord(record).filter((e) => e.event === "call");
const gradioCalls = (record: string) => readRecord(record).filter((e) => e.event === "call" && e["fn"] === "generate_audio");

async function saveVoice(stack: PoolGateway): Promise<string> {
  const created = await stack.gw.api("/voices", {
    method: "POST",
    body: voiceForm({ audio: synthWav({ sampleRate: 24_000, seconds: 3, f0: 200 }), name: "Cara", promptText: "You are a helpful assistant.<|endofprompt|>I like long walks." }),
  });
  expect(created.status).toBe(201);
  return created.json.id as string;
}

describe("a pool of a Gradio UI, a FastAPI server and a gRPC server", () => {
  let gradio: StandinHandle;
  let fastapi: StandinHandle;
  let grpc: StandinHandle;
  let stack: PoolGateway;
  let voice: string;
  beforeAll(async () => {
    [gradio, fastapi, grpc] = await Promise.all([
      startStandin({ variant: "official", model: "cosyvoice3", startTimeoutMs: 240_000 }),
      startStandin({ serve: "fastapi", model: "cosyvoice3", startTimeoutMs: 240_000 }),
      startStandin({ serve: "grpc", model: "cosyvoice3", startTimeoutMs: 240_000 }),
    ]);
    stack = await startPoolGateway([`gradio+${gradio.url}`, `fastapi+${fastapi.url}`, `grpc://${grpc.address}`], { model: "cosyvoice3", concurrency: 1 });
    voice = await saveVoice(stack);
  }, 300_000);
  afterAll(async () => {
    await stack?.close();
    await Promise.all([gradio?.stop(), fastapi?.stop(), grpc?.stop()]);
  });

  it("/readyz shows each box once, with its kind", async () => {
    const ready = await stack.gw.api("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.json.backends.map((b: { name: string; kind: string }) => [b.name, b.kind])).toEqual([
      ["backend-1", "gradio"],
      ["backend-2", "cosyvoice-fastapi"],
      ["backend-3", "cosyvoice-grpc"],
    ]);
  });

  it("clone jobs are served from every box, streamed (AAC or PCM) and whole", async () => {
    const g0 = gradioCalls(gradio.record).length;
    const f0 = fastapiCalls(fastapi.record).length;
    const r0 = fastapiCalls(grpc.record).length;
    const results = await Promise.all(
      Array.from({ length: 9 }, (_, i) => stack.gw.api("/synthesize", jsonPost({ text: `${TEXT} Number ${i}.`, voice, mode: "clone", ...(i % 2 ? { format: "mp3", stream: true } : {}) }))),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201, 201, 201, 201, 201]);
    expect(gradioCalls(gradio.record).length).toBeGreaterThan(g0);
    expect(fastapiCalls(fastapi.record).length).toBeGreaterThan(f0);
    expect(fastapiCalls(grpc.record).length).toBeGreaterThan(r0);
  });

  it("instruct goes only to the box that has it (the FastAPI box's instruct2)", async () => {
    const g0 = gradioCalls(gradio.record).length;
    const f0 = fastapiCalls(fastapi.record).length;
    const r0 = fastapiCalls(grpc.record).length;
    const results = await Promise.all(Array.from({ length: 3 }, () => stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice, instruct: "Speak slowly." }))));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(gradioCalls(gradio.record).length).toBe(g0);
    expect(fastapiCalls(grpc.record).length).toBe(r0);
    const calls = fastapiCalls(fastapi.record).slice(f0);
    expect(calls.map((c) => c["endpoint"])).toEqual(["/inference_instruct2", "/inference_instruct2", "/inference_instruct2"]);
  });
});

describe("a FastAPI box killed mid-stream", () => {
  let dying: StandinHandle;
  let dyingToo: StandinHandle;
  let healthy: StandinHandle;
  let stack: PoolGateway;
  let voice: string;
  beforeAll(async () => {
    [dying, dyingToo, healthy] = await Promise.all([
      startStandin({ serve: "fastapi", model: "cosyvoice3", crashAfterChunks: 2, chunkDelayMs: 200, startTimeoutMs: 240_000 }),
      startStandin({ serve: "fastapi", model: "cosyvoice3", crashAfterChunks: 2, chunkDelayMs: 200, startTimeoutMs: 240_000 }),
      startStandin({ serve: "fastapi", model: "cosyvoice3", startTimeoutMs: 240_000 }),
    ]);
    stack = await startPoolGateway([`fastapi+${dying.url}`, `fastapi+${healthy.url}`, `fastapi+${dyingToo.url}`], {
      model: "cosyvoice3",
      breaker: { failures: 0, openMs: 10_000 },
    });
    voice = await saveVoice(stack);
  }, 300_000);
  afterAll(async () => {
    await stack?.close();
    await Promise.all([dying?.stop(), dyingToo?.stop(), healthy?.stop()]);
  });

  const long = "One sentence here. Another sentence there. A third one to be sure. And a fourth.";

  it("before any audio reached the caller, the job runs once more on another box: the caller gets its clip", async () => {
    // Jobs take turns between the boxes: within a few, one lands on a dying box.
    for (let i = 0; i < 6 && !readRecord(dying.record).some((e) => e.event === "crash"); i++) {
      const res = await stack.gw.api("/synthesize", jsonPost({ text: long, voice, mode: "clone" }));
      expect(res.status, JSON.stringify(res.json)).toBe(201);
    }
    expect(readRecord(dying.record).some((e) => e.event === "crash")).toBe(true);
    expect(resends(stack.logLines).filter((r) => r.from === "backend-1").length).toBe(1);
  });

  it("after audio went out, the stream breaks off (never a hang), and the next jobs are served by a live box", async () => {
    let broken = 0;
    for (let i = 0; i < 6 && broken === 0; i++) {
      const res = await fetch(`${stack.gw.url}/synthesize`, jsonPost({ text: long, voice, mode: "clone", stream: true }));
      expect(res.status).toBe(200);
      await res.arrayBuffer().catch(() => broken++);
    }
    expect(broken).toBe(1);
    expect(readRecord(dyingToo.record).some((e) => e.event === "crash")).toBe(true);
    const before = fastapiCalls(healthy.record).length;
    const next = await Promise.all([1, 2].map(() => stack.gw.api("/synthesize", jsonPost({ text: TEXT, voice, mode: "clone" }))));
    expect(next.map((r) => r.status)).toEqual([201, 201]);
    expect(fastapiCalls(healthy.record).length).toBe(before + 2);
    // The dead boxes were tried (refused: nothing accepted) and the jobs moved, or they were already known down.
    const moved = failovers(stack.logLines).filter((f) => f.from !== "backend-2");
    const down = stack.pool.status().filter((b) => b.state === "down").length === 2;
    expect(moved.length > 0 || down).toBe(true);
  });
});
