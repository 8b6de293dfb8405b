// Live membership of the REST API's pool (issue 16's live reload, issue 19 item 6): the routes
// file's synthesis route starts with a real Gradio stand-in; a reload adds a real FastAPI
// stand-in, a second reload removes the Gradio one while it still runs a job. With no restart:
// the running job finishes on the Gradio box, new REST jobs go to the FastAPI box (its record
// shows them, the Gradio box's shows no new call), and /readyz follows the file. A job the new
// box fails names its service in the problem's title.
import { readRecord, startStandin, synthWav, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { voiceForm } from "./helpers/harness.ts";
import { startRoutedGateway, tempRoot, type RoutedGateway } from "./helpers/passthrough.ts";
import { until } from "./helpers/pool-stack.ts";

const routes = (...backends: string[]) => `routes:\n  - path: /cosyvoice/\n    synthesis: true\n    backends:\n${backends.map((b) => `      - ${b}\n`).join("")}`;
const gradioCalls = (box: StandinHandle) => readRecord(box.record).filter((e) => e.event === "call" && e["fn"] === "generate_audio").length;
const fastapiCalls = (box: StandinHandle) => readRecord(box.record).filter((e) => e.event === "call").length;

describe("a routes-file reload changes the REST API's boxes live", () => {
  const tmp = tempRoot("rest-live-");
  let gradio: StandinHandle;
  let fastapi: StandinHandle;
  let g: RoutedGateway;
  let voice: string;
  const synthesize = (text: string) =>
    fetch(`${g.url}/synthesize`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text, voice, mode: "clone" }) });
  const names = async () => ((await (await fetch(`${g.url}/readyz`)).json()) as { backends: { name: string; kind?: string; doors: string[] }[] }).backends;

  beforeAll(async () => {
    [gradio, fastapi] = await Promise.all([
      startStandin({ variant: "official", model: "cosyvoice3", chunkDelayMs: 400 }),
      startStandin({ serve: "fastapi", model: "cosyvoice3", startTimeoutMs: 240_000 }),
    ]);
    g = await startRoutedGateway(tmp.root, routes(`{ url: "${gradio.url}", kind: gradio }`), { model: "cosyvoice3" });
    const created = await fetch(`${g.url}/voices`, {
      method: "POST",
      body: voiceForm({ audio: synthWav({ sampleRate: 16_000, seconds: 3, f0: 200 }), name: "Cara", promptText: "I like long walks." }),
    });
    expect(created.status).toBe(201);
    voice = ((await created.json()) as { id: string }).id;
  }, 300_000);
  afterAll(async () => {
    await g?.close();
    await Promise.all([gradio?.stop(), fastapi?.stop()]);
    tmp.cleanup();
  });

  it("before: REST jobs run on the Gradio box", async () => {
    expect((await synthesize("Before the reload.")).status).toBe(201);
    expect(gradioCalls(gradio)).toBe(1);
    expect(fastapiCalls(fastapi)).toBe(0);
  });

  it("a FastAPI box added, then the Gradio one removed while it runs a job: that job finishes there, new jobs go to the new box", async () => {
    g.writeInPlace(routes(`{ url: "${gradio.url}", kind: gradio }`, `{ url: "${fastapi.url}", kind: cosyvoice-fastapi }`));
    await until(async () => (await names()).some((b) => b.kind === "cosyvoice-fastapi" && b.doors.includes("rest")), "the FastAPI box in the REST pool");
    // A long job, on the Gradio box (its only running job there)...
    const before = gradioCalls(gradio);
    // Jobs spread by load: start jobs until one is on the Gradio box.
    const started: Promise<Response>[] = [];
    while (gradioCalls(gradio) === before) {
      // Each text its own: identical requests in flight would share one job.
      started.push(synthesize(`A longer job, number ${started.length}. It has three sentences. It runs while the file changes.`));
      await until(() => gradioCalls(gradio) > before || fastapiCalls(fastapi) >= started.length, "the job to start", 60_000);
    }
    // ... and the Gradio box leaves the file.
    g.replaceByRename(routes(`{ url: "${fastapi.url}", kind: cosyvoice-fastapi }`));
    await until(async () => !(await names()).some((b) => b.kind === "gradio" && b.doors.length > 0), "the Gradio box out of every door");
    const removedAt = Date.now();
    expect(g.logged("the synthesis pool's boxes changed").length).toBeGreaterThanOrEqual(2);
    const gradioAfterRemoval = gradioCalls(gradio);
    const fastapiBefore = fastapiCalls(fastapi);
    for (let i = 0; i < 3; i++) expect((await synthesize(`After the reload, job ${i}.`)).status).toBe(201);
    expect(fastapiCalls(fastapi)).toBe(fastapiBefore + 3);
    expect(gradioCalls(gradio)).toBe(gradioAfterRemoval);
    // Every job that started before, the one on the removed box included, completed.
    expect((await Promise.all(started)).map((r) => r.status)).toEqual(started.map(() => 201));
    // The job on the removed box was still sending audio after its removal: it finished there.
    const job = readRecord(gradio.record).filter((e) => e.event === "call" && e["fn"] === "generate_audio").at(-1)?.["job"];
    const lastChunk = readRecord(gradio.record).filter((e) => e.event === "chunk" && e["job"] === job).at(-1);
    expect(Number(lastChunk?.["t"])).toBeGreaterThan(removedAt - 50);
    // Once its job is over, the removed box is no longer shown.
    await until(async () => !(await names()).some((b) => b.kind === "gradio"), "the removed box to leave /readyz");
    expect((await names()).map((b) => b.name)).toEqual(["backend-2"]);
  });

  it("a REST job's 502 names the box's service: the FastAPI server, not the CosyVoice Gradio UI", async () => {
    await fastapi.stop();
    const res = await synthesize("Nobody answers this one.");
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ type: expect.stringContaining("backend-unreachable"), title: "The CosyVoice FastAPI server is unreachable" });
  });
});
