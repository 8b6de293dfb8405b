// The GPU box dies: its process is killed with SIGKILL in the middle of a job. A client of the
// gateway must get an error (a problem, or a cut stream), never a "success" with half the
// audio; while the box is down the gateway answers 502 at once; when the box comes back on the
// same address the gateway serves again without being restarted itself.
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, cloneVoice, expectProblem, jsonPost } from "./helpers/http.ts";
import { callCount, nextCall } from "./helpers/record.ts";
import { startGateway, type Gateway } from "./helpers/stack.ts";
import { postJson } from "./helpers/stream.ts";
import { waitForRecord } from "@cosyvoice3/testkit";

// Slow enough chunks that the kill lands mid-job.
const KNOBS = { variant: "official", model: "cosyvoice3", chunkDelayMs: 700 } as const;
const TEXT = "First sentence here. Second sentence here. Third sentence here. Fourth sentence here.";

let standin: StandinHandle;
let gw: Gateway;
let voice: string;

beforeAll(async () => {
  standin = await startStandin(KNOBS);
  gw = await startGateway({ backendUrl: standin.url, config: { upstreamTimeoutMs: 30_000 } });
  voice = await cloneVoice(gw.url);
});

afterAll(async () => {
  await gw?.close();
  await standin?.stop();
});

async function kill(): Promise<void> {
  const exited = new Promise((r) => standin.process.once("exit", r));
  standin.process.kill("SIGKILL");
  await exited;
}

async function restart(): Promise<void> {
  standin = await startStandin({ ...KNOBS, port: standin.port, record: standin.record });
}

/** Waits until the job made at least one chunk, then kills the stand-in. */
async function killAfterFirstChunk(job: string): Promise<void> {
  await waitForRecord(standin.record, (r) => r.some((e) => e["job"] === job && e.event === "chunk"));
  await kill();
}

describe("the backend killed mid-job", () => {
  it("a synthesis whose backend dies mid-job answers 502, not a short clip", async () => {
    const before = callCount(standin.record);
    const answer = call(gw.url + "/synthesize", jsonPost({ text: TEXT, voice }));
    await killAfterFirstChunk(await nextCall(standin.record, before));
    const a = await answer;
    expectProblem(a, 502);
    expect(a.json).toMatchObject({ type: expect.stringMatching(/backend-(unreachable|error)$/) });
  });

  it("while the backend is down: 502 at once for synthesis, and /readyz says not ready", async () => {
    expectProblem(await call(gw.url + "/synthesize", jsonPost({ text: "Hello.", voice })), 502, "backend-unreachable");
    expectProblem(await call(gw.url + "/readyz"), 503, "not-ready");
    expect((await call(gw.url + "/healthz")).status).toBe(200);
  });

  it("after a restart on the same address the gateway serves again without its own restart", async () => {
    await restart();
    expect((await call(gw.url + "/readyz")).status).toBe(200);
    const a = await call(gw.url + "/synthesize", jsonPost({ text: "Back again.", voice }));
    expect(a.status, a.text).toBe(201);
  });

  it("a stream whose backend dies after the first audio is cut, not ended cleanly, and no clip is kept", async () => {
    const before = callCount(standin.record);
    const r = postJson(gw.url, "/synthesize", { text: TEXT, voice, stream: true });
    const job = await nextCall(standin.record, before);
    const head = await r.head;
    expect(head.status).toBe(200);
    await r.bytes(1);
    await kill();
    const end = await r.done;
    expect(end.clean, "a stream cut by a dead backend must not end like a complete one").toBe(false);
    expect(end.bytes.length).toBeGreaterThan(0);
    const id = String(head.headers["x-audio-id"]);
    expectProblem(await call(`${gw.url}/audio/${id}`), 404, "audio-not-found");
    expect(job).toBeTruthy();
  });

  it("recovers for streams too: a full stream after the restart", async () => {
    await restart();
    const r = postJson(gw.url, "/synthesize", { text: "One more. And another.", voice, stream: true });
    const end = await r.done;
    expect(end.status).toBe(200);
    expect(end.clean).toBe(true);
    const kept = await call(`${gw.url}/audio/${String(end.headers?.["x-audio-id"])}`);
    expect(kept.status).toBe(200);
    expect(Buffer.from(kept.bytes).equals(end.bytes)).toBe(true);
  });
});

describe("the backend's own crash knob (it exits after N chunks)", () => {
  it("a synthesis on a backend that crashes after 2 chunks answers 502 and the next start serves", async () => {
    await standin.stop();
    standin = await startStandin({ ...KNOBS, chunkDelayMs: 100, crashAfterChunks: 2, port: standin.port, record: standin.record });
    const a = await call(gw.url + "/synthesize", jsonPost({ text: TEXT, voice }));
    expectProblem(a, 502);
    await new Promise((r) => standin.process.exitCode !== null ? r(undefined) : standin.process.once("exit", r));
    await restart();
    const b = await call(gw.url + "/synthesize", jsonPost({ text: "Fine now.", voice }));
    expect(b.status, b.text).toBe(201);
  });
});
