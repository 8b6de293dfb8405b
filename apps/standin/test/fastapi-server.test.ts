import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readRecord, startStandin, synthWav, waitForRecord, type StandinHandle } from "@cosyvoice3/testkit";
import { ends, eventsOf, send, sendForm, sha256, sleep } from "./http-helpers.ts";

// CosyVoice's official FastAPI server (runtime/python/fastapi/server.py): the endpoints, their
// form fields (as upstream's handler signatures declare them) and which take a prompt_wav upload.
const UPSTREAM: Record<string, { fields: string[]; upload: boolean }> = {
  inference_sft: { fields: ["tts_text", "spk_id"], upload: false },
  inference_zero_shot: { fields: ["tts_text", "prompt_text", "prompt_wav"], upload: true },
  inference_cross_lingual: { fields: ["tts_text", "prompt_wav"], upload: true },
  inference_instruct: { fields: ["tts_text", "spk_id", "instruct_text"], upload: false },
  inference_instruct2: { fields: ["tts_text", "instruct_text", "prompt_wav"], upload: true },
};
const PREFIX = "You are a helpful assistant.<|endofprompt|>";
const prompt = () => ({ prompt_wav: { data: synthWav({ sampleRate: 16_000, seconds: 2, f0: 120 }), name: "prompt.wav", type: "audio/wav" } });

interface OpenApi {
  info: { title: string; version: string };
  paths: Record<string, Record<string, { operationId: string; requestBody: { required: boolean; content: Record<string, { schema: { $ref: string } }> } }>>;
  components: { schemas: Record<string, { required?: string[]; properties: Record<string, { type?: string; format?: string; contentMediaType?: string }> }> };
}

describe("--serve fastapi: the interface, as FastAPI generates it for upstream's server.py", () => {
  let h: StandinHandle;
  beforeAll(async () => {
    h = await startStandin({ serve: "fastapi", model: "cosyvoice3" });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("/openapi.json lists the five endpoints, GET and POST each, with upstream's form fields", async () => {
    const spec = (await (await fetch(`${h.url}/openapi.json`)).json()) as OpenApi;
    expect(spec.info).toEqual({ title: "FastAPI", version: "0.1.0" });
    expect(Object.keys(spec.paths).sort()).toEqual(Object.keys(UPSTREAM).map((n) => `/${n}`).sort());
    for (const [name, want] of Object.entries(UPSTREAM)) {
      const ops = spec.paths[`/${name}`]!;
      expect(Object.keys(ops).sort()).toEqual(["get", "post"]);
      for (const method of ["get", "post"]) {
        const op = ops[method]!;
        // FastAPI names an operation after the function, the path and the method
        expect(op.operationId).toBe(`${name}_${name}_${method}`);
        const media = want.upload ? "multipart/form-data" : "application/x-www-form-urlencoded";
        expect(Object.keys(op.requestBody.content)).toEqual([media]);
        expect(op.requestBody.required).toBe(true);
        const schema = spec.components.schemas[op.requestBody.content[media]!.schema.$ref.split("/").pop()!]!;
        expect(schema.required).toEqual(want.fields);
        expect(Object.keys(schema.properties)).toEqual(want.fields);
        if (want.upload) expect(schema.properties["prompt_wav"]).toMatchObject({ type: "string", format: "binary" });
      }
    }
  });

  it("a missing form field is FastAPI's 422", async () => {
    const r = await sendForm(`${h.url}/inference_zero_shot`, { tts_text: "Hi." }, prompt());
    expect(r.status).toBe(422);
    const detail = (JSON.parse(r.body.toString()) as { detail: { loc: string[]; type: string }[] }).detail;
    expect(detail.map((d) => d.loc.join("."))).toEqual(["body.prompt_text"]);
    expect(detail[0]!.type).toBe("missing");
  });

  it("zero-shot (CosyVoice3, with <|endofprompt|>): raw int16 PCM, no header, no content type, one piece per sentence, bit-exact to the record", async () => {
    const r = await sendForm(
      `${h.url}/inference_zero_shot`,
      { tts_text: "The first sentence. The second one! And a third?", prompt_text: `${PREFIX}A short prompt.` },
      prompt(),
    );
    expect(r.status).toBe(200);
    expect(r.complete).toBe(true);
    expect(r.headers["content-type"]).toBeUndefined();
    expect(r.headers["transfer-encoding"]).toBe("chunked");
    expect(r.body.subarray(0, 4).toString("latin1")).not.toBe("RIFF");
    expect(r.body.length % 2).toBe(0);
    const end = ends(h.record).at(-1)!;
    expect(end).toMatchObject({ endpoint: "/inference_zero_shot", mode: "zero_shot", outcome: "complete", chunks: 3, pcm_bytes: r.body.length });
    expect(end["pcm_sha256"]).toBe(sha256(r.body));
    // 24 kHz: the record's chunk durations add up to the bytes received at that rate
    const chunks = readRecord(h.record).filter((e) => e.event === "chunk" && e["job"] === end["job"]);
    expect(chunks.map((c) => c["sample_rate"])).toEqual([24_000, 24_000, 24_000]);
    const ms = chunks.reduce((a, c) => a + Number(c["duration_ms"]), 0);
    expect(Math.abs(ms - (r.body.length / 2 / 24_000) * 1000)).toBeLessThan(5);
  });

  // (like the real server, no seed is set: the voice varies a little from call to call)
  it("GET takes the same form as POST (upstream registers both)", async () => {
    const fields = { tts_text: `${PREFIX}Same words twice.` };
    const post = await sendForm(`${h.url}/inference_cross_lingual`, fields, prompt());
    const get = await sendForm(`${h.url}/inference_cross_lingual`, fields, prompt(), { method: "GET" });
    expect([post.status, get.status]).toEqual([200, 200]);
    expect(get.body.length).toBeGreaterThan(10_000);
    expect(Math.abs(get.body.length - post.body.length) / post.body.length).toBeLessThan(0.1);
    expect(ends(h.record).slice(-2).map((e) => e["pcm_sha256"])).toEqual([sha256(post.body), sha256(get.body)]);
  });

  it("instruct2 (CosyVoice3's instruct form) streams", async () => {
    const r = await sendForm(
      `${h.url}/inference_instruct2`,
      { tts_text: "Speak softly. Then louder.", instruct_text: "You are a helpful assistant. Speak softly.<|endofprompt|>" },
      prompt(),
    );
    expect(r.status).toBe(200);
    expect(r.complete).toBe(true);
    expect(ends(h.record).at(-1)).toMatchObject({ mode: "instruct2", outcome: "complete", chunks: 2, pcm_sha256: sha256(r.body) });
  });

  // The model's own failures happen while the body streams: the 200 is already out, so the
  // connection is cut (no terminating chunk); the message is only in the server's log.
  it("CosyVoice3 without <|endofprompt|> fails mid-stream: 200, then the connection is cut", async () => {
    const r = await sendForm(`${h.url}/inference_zero_shot`, { tts_text: "Hello there.", prompt_text: "A short prompt." }, prompt());
    expect(r.status).toBe(200);
    expect(r.complete).toBe(false);
    expect(r.body.length).toBe(0);
    expect(ends(h.record).at(-1)).toMatchObject({
      outcome: "failed",
      error: "AssertionError",
      message: "<|endofprompt|> not detected in CosyVoice3 text or prompt_text, check your input!",
    });
  });

  it("inference_instruct and inference_sft need CosyVoice1: on CosyVoice3 they fail mid-stream", async () => {
    const instruct = await sendForm(`${h.url}/inference_instruct`, { tts_text: `${PREFIX}Hi.`, spk_id: "中文女", instruct_text: "calm" });
    expect([instruct.status, instruct.complete]).toEqual([200, false]);
    expect(ends(h.record).at(-1)).toMatchObject({ outcome: "failed", message: "inference_instruct is only implemented for CosyVoice!" });
    const sft = await sendForm(`${h.url}/inference_sft`, { tts_text: `${PREFIX}Hi.`, spk_id: "中文女" });
    expect([sft.status, sft.complete]).toEqual([200, false]);
    expect(ends(h.record).at(-1)).toMatchObject({ outcome: "failed", error: "KeyError" });
  });

  it("an unreadable prompt_wav fails in the handler: a plain 500", async () => {
    const r = await sendForm(
      `${h.url}/inference_cross_lingual`,
      { tts_text: `${PREFIX}Hi.` },
      { prompt_wav: { data: new TextEncoder().encode("not audio at all"), name: "x.wav" } },
    );
    expect(r.status).toBe(500);
    expect(r.body.toString()).toBe("Internal Server Error");
    expect(ends(h.record).at(-1)).toMatchObject({ endpoint: "/inference_cross_lingual", outcome: "failed" });
  });
});

describe("--serve fastapi --model cosyvoice1", () => {
  let h: StandinHandle;
  beforeAll(async () => {
    h = await startStandin({ serve: "fastapi", model: "cosyvoice1" });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("sft and instruct stream at 22050 Hz", async () => {
    const sft = await sendForm(`${h.url}/inference_sft`, { tts_text: "你好。再见。", spk_id: "中文女" });
    expect([sft.status, sft.complete]).toEqual([200, true]);
    const instruct = await sendForm(`${h.url}/inference_instruct`, { tts_text: "Hello.", spk_id: "英文男", instruct_text: "calm" });
    expect([instruct.status, instruct.complete]).toEqual([200, true]);
    const [a, b] = ends(h.record).slice(-2);
    expect(a).toMatchObject({ mode: "sft", chunks: 2, outcome: "complete", pcm_sha256: sha256(sft.body) });
    expect(b).toMatchObject({ mode: "instruct", chunks: 1, outcome: "complete", spk_id: "英文男", instruct_text: "calm", pcm_sha256: sha256(instruct.body) });
    const rates = readRecord(h.record).filter((e) => e.event === "chunk").map((e) => e["sample_rate"]);
    expect(new Set(rates)).toEqual(new Set([22_050]));
  });

  it("zero-shot works without <|endofprompt|> (CosyVoice1 has no such check)", async () => {
    const r = await sendForm(`${h.url}/inference_zero_shot`, { tts_text: "Hello there.", prompt_text: "A short prompt." }, prompt());
    expect([r.status, r.complete]).toEqual([200, true]);
  });

  it("instruct2 does not exist on CosyVoice1: the handler raises, a plain 500", async () => {
    const r = await sendForm(`${h.url}/inference_instruct2`, { tts_text: "Hi.", instruct_text: "calm" }, prompt());
    expect(r.status).toBe(500);
    expect(ends(h.record).at(-1)).toMatchObject({ mode: "instruct2", outcome: "failed", error: "AttributeError" });
  });
});

describe("--serve fastapi: cancel and fault knobs", () => {
  let h: StandinHandle | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });
  const SFT = { tts_text: "One. Two. Three. Four. Five.", spk_id: "中文女" };

  it("closing the connection stops the generator: client_closed, no chunk after it, and the server goes on", async () => {
    h = await startStandin({ serve: "fastapi", model: "cosyvoice1", chunkDelayMs: 1200 });
    const r = await sendForm(`${h.url}/inference_sft`, SFT, {}, { onData: () => true });
    expect(r.complete).toBe(false);
    const rec = await waitForRecord(h.record, (es) => es.some((e) => e.event === "end"));
    const end = rec.find((e) => e.event === "end")!;
    expect(end).toMatchObject({ outcome: "client_closed", chunks: 1 });
    expect(end["pcm_sha256"]).toBe(sha256(r.body));
    await sleep(2600); // two more chunk delays
    expect(eventsOf(h.record, end["job"])).toEqual(["call", "chunk", "end"]);
    const next = await sendForm(`${h.url}/inference_sft`, { tts_text: "Just one.", spk_id: "中文女" });
    expect([next.status, next.complete]).toEqual([200, true]);
  });

  it("--fail-rate 1: every call fails mid-stream, recorded as failed", async () => {
    h = await startStandin({ serve: "fastapi", model: "cosyvoice1", failRate: 1 });
    for (let i = 0; i < 2; i++) {
      const r = await sendForm(`${h.url}/inference_sft`, SFT);
      expect([r.status, r.complete]).toEqual([200, false]);
    }
    const fails = ends(h.record);
    expect(fails.map((e) => [e["outcome"], e["message"]])).toEqual([
      ["failed", "injected failure (--fail-rate)"],
      ["failed", "injected failure (--fail-rate)"],
    ]);
    for (const e of fails) expect(Number(e["chunks"])).toBe((e["applied"] as { fail_at_chunk: number }).fail_at_chunk);
  });

  it("--first-chunk-delay-ms holds the first piece back", async () => {
    h = await startStandin({ serve: "fastapi", model: "cosyvoice1", firstChunkDelayMs: 700 });
    const t0 = Date.now();
    let first = 0;
    const r = await sendForm(`${h.url}/inference_sft`, SFT, {}, { onData: () => void (first ||= Date.now() - t0) });
    expect(r.complete).toBe(true);
    expect(first).toBeGreaterThanOrEqual(700);
    expect(ends(h.record).at(-1)).toMatchObject({ outcome: "complete", applied: { first_chunk_delay_ms: 700 } });
  });

  it("--crash-after-chunks 2: the process exits 70 after the second piece; the call is recorded crashed", async () => {
    h = await startStandin({ serve: "fastapi", model: "cosyvoice1", crashAfterChunks: 2, chunkDelayMs: 100 });
    const exited = new Promise<number | null>((r) => h!.process.once("exit", (code) => r(code)));
    const r = await sendForm(`${h.url}/inference_sft`, SFT);
    expect(r.complete).toBe(false);
    expect(await exited).toBe(70);
    const rec = readRecord(h.record);
    expect(rec.filter((e) => e.event === "chunk")).toHaveLength(2);
    expect(rec.find((e) => e.event === "end")).toMatchObject({ outcome: "crashed", chunks: 2, pcm_sha256: sha256(r.body) });
  });
});

// keep the shared helper honest: a plain GET without a form is FastAPI's 422, not a hang
describe("--serve fastapi: a request without a body", () => {
  let h: StandinHandle;
  beforeAll(async () => {
    h = await startStandin({ serve: "fastapi", model: "cosyvoice2" });
  });
  afterAll(async () => {
    await h?.stop();
  });
  it("GET /inference_sft with nothing is 422", async () => {
    const r = await send(`${h.url}/inference_sft`, { method: "GET" });
    expect(r.status).toBe(422);
  });
});
