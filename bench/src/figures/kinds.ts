/**
 * Figure 10 (issue 16): the gateway over each kind of box.
 * - First byte through the gateway against the box's own first chunk, per kind (paired: the
 *   client's first body byte minus the moment the driver inside the gateway yielded the first
 *   chunk). PCM kinds stream `format: "pcm"` (passed through as the box sent it); Gradio streams
 *   its AAC as it came.
 * - Whole synthesis through the gateway (POST /synthesize, 201, the clip stored) over the same
 *   call made directly on the FastAPI stand-in (POST /inference_sft read to its end), p50 over p50,
 *   interleaved.
 */
import { startStandin, synthWav, voiceForm, type StandinHandle } from "@cosyvoice3/testkit";
import { startInProcessGateway, type InProcessGateway } from "../inproc.ts";
import { round, summarize, type Summary } from "../stats.ts";
import { SPEAKER } from "./sdk-overhead.ts";

const TEXT = "First sentence of the stream. And a second one.";

/** One kind's first-byte figures. */
export interface KindFirstByte {
  kind: string;
  firstChunkDelayMs: number;
  gateway: Summary;
  /** The box's first chunk, called directly (the baseline). */
  direct: Summary;
  /** Paired: the gateway's own part of the first byte. */
  paired: Summary;
}

export interface KindFigures {
  firstByte: KindFirstByte[];
  /** p50(gateway whole synthesis) / p50(FastAPI stand-in called directly). */
  fastapiSynthesisRatio: number;
  fastapiDirect: Summary;
  fastapiViaGateway: Summary;
}

async function firstBodyByte(res: Response): Promise<number> {
  if (!res.body) throw new Error(`no body (${res.status})`);
  const reader = res.body.getReader();
  const first = await reader.read();
  const at = performance.now();
  if (first.done) throw new Error("empty answer");
  while (!(await reader.read()).done) {
    // read to the end, so the job finishes normally
  }
  return at;
}

/** The FastAPI stand-in called directly: first byte, and the whole answer. */
async function fastapiDirect(box: StandinHandle): Promise<{ first: number; whole: number }> {
  const form = new FormData();
  form.set("tts_text", TEXT);
  form.set("spk_id", SPEAKER);
  const t = performance.now();
  const res = await fetch(`${box.url}/inference_sft`, { method: "POST", body: form });
  const first = (await firstBodyByte(res)) - t;
  return { first, whole: performance.now() - t };
}

async function viaGateway(gw: InProcessGateway, id: string, body: Record<string, unknown>): Promise<{ ms: number; own: number }> {
  const t = performance.now();
  const res = await fetch(`${gw.url}/synthesize`, { method: "POST", headers: { "content-type": "application/json", "x-request-id": id }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`gateway answered ${res.status}`);
  const at = await firstBodyByte(res);
  return { ms: at - t, own: at - (gw.trace(id)?.firstChunkAt ?? at) };
}

export async function kindFigures(runs: number, firstChunkDelayMs: number, log: (s: string) => void): Promise<KindFigures> {
  const out: KindFirstByte[] = [];
  let seq = 0;
  // FastAPI and gRPC (CosyVoice 1, built-in speakers: no upload needed), and the Gradio UI as the
  // reference. The OpenAI kind (vLLM-Omni's shape, CosyVoice3) clones only: a voice is saved first.
  const boxes: { kind: string; box: StandinHandle; address: string; body: Record<string, unknown>; model?: "cosyvoice3"; voiceFirst?: boolean }[] = [];
  try {
    const fastapi = await startStandin({ serve: "fastapi", model: "cosyvoice1", firstChunkDelayMs });
    boxes.push({ kind: "cosyvoice-fastapi", box: fastapi, address: `fastapi+${fastapi.url}`, body: { text: TEXT, voice: `builtin:${SPEAKER}`, stream: true, format: "pcm" } });
    const grpc = await startStandin({ serve: "grpc", model: "cosyvoice1", firstChunkDelayMs });
    boxes.push({ kind: "cosyvoice-grpc", box: grpc, address: `grpc://${grpc.address}`, body: { text: TEXT, voice: `builtin:${SPEAKER}`, stream: true, format: "pcm" } });
    const openai = await startStandin({ serve: "openai", model: "cosyvoice3", firstChunkDelayMs });
    boxes.push({ kind: "openai", box: openai, address: `openai+${openai.url}/v1`, body: { text: TEXT, mode: "clone", stream: true, format: "pcm" }, model: "cosyvoice3", voiceFirst: true });
    const gradio = await startStandin({ variant: "official", model: "cosyvoice1", firstChunkDelayMs });
    boxes.push({ kind: "gradio", box: gradio, address: `gradio+${gradio.url}`, body: { text: TEXT, voice: `builtin:${SPEAKER}`, stream: true } });
    let fastapiDirectWhole: number[] = [];
    let fastapiGatewayWhole: number[] = [];
    for (const { kind, box, address, body, model, voiceFirst } of boxes) {
      const gw = await startInProcessGateway(address, model ?? "cosyvoice1", { concurrency: 2, queueSize: 8 });
      try {
        if (voiceFirst) {
          const form = voiceForm({ audio: synthWav({ sampleRate: 24_000, seconds: 3, f0: 200 }), name: "Bench", promptText: "You are a helpful assistant.<|endofprompt|>I like long walks." });
          const saved = await fetch(`${gw.url}/voices`, { method: "POST", body: form });
          if (saved.status !== 201) throw new Error(`saving the voice answered ${saved.status}`);
          body["voice"] = ((await saved.json()) as { id: string }).id;
        }
        const direct = async () => {
          if (kind === "cosyvoice-fastapi") return (await fastapiDirect(box)).first;
          // Other kinds: the box's own first chunk is what the driver inside the gateway saw (the paired figure).
          return Number.NaN;
        };
        await viaGateway(gw, `k-${++seq}`, body);
        const g: { ms: number; own: number }[] = [];
        const d: number[] = [];
        for (let i = 0; i < runs; i++) {
          g.push(await viaGateway(gw, `k-${++seq}`, body));
          d.push(await direct());
        }
        const row: KindFirstByte = { kind, firstChunkDelayMs, gateway: summarize(g.map((x) => x.ms)), direct: summarize(d.filter((x) => !Number.isNaN(x))), paired: summarize(g.map((x) => x.own)) };
        log(`  ${kind}: gateway first byte p50 ${row.gateway.p50} ms, box direct p50 ${row.direct.p50} ms, gateway's own p50 ${row.paired.p50} ms`);
        out.push(row);
        if (kind === "cosyvoice-fastapi") {
          // Whole synthesis, interleaved: gateway (201, stored) vs the box directly.
          const whole = { text: TEXT, voice: `builtin:${SPEAKER}` };
          for (let i = 0; i < runs; i++) {
            const t = performance.now();
            const res = await fetch(`${gw.url}/synthesize`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(whole) });
            await res.arrayBuffer();
            if (res.status !== 201) throw new Error(`gateway answered ${res.status}`);
            fastapiGatewayWhole.push(performance.now() - t);
            fastapiDirectWhole.push((await fastapiDirect(box)).whole);
          }
        }
      } finally {
        await gw.close();
      }
    }
    const fastapiDirectS = summarize(fastapiDirectWhole);
    const fastapiGatewayS = summarize(fastapiGatewayWhole);
    fastapiDirectWhole = [];
    fastapiGatewayWhole = [];
    const ratio = round(fastapiGatewayS.p50 / fastapiDirectS.p50, 3);
    log(`  FastAPI whole synthesis: gateway p50 ${fastapiGatewayS.p50} ms / direct p50 ${fastapiDirectS.p50} ms = ${ratio}`);
    return { firstByte: out, fastapiSynthesisRatio: ratio, fastapiDirect: fastapiDirectS, fastapiViaGateway: fastapiGatewayS };
  } finally {
    await Promise.all(boxes.map((b) => b.box.stop()));
  }
}
