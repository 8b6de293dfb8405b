/**
 * Figure 4: time to the first audio byte through the gateway's streaming synthesis versus the
 * SDK's first chunk, with the stand-in's first-chunk delay set. Unpaired (each path's own
 * percentiles) and paired (a gateway client's first byte minus the moment the SDK inside the
 * gateway yielded the first chunk).
 */
import { startStandin } from "@cosyvoice3/testkit";
import { CosyVoice } from "cosyvoice3-sdk";
import { startInProcessGateway } from "../inproc.ts";
import { round, summarize, type Summary } from "../stats.ts";
import { SPEAKER } from "./sdk-overhead.ts";

export interface FirstByte {
  firstChunkDelayMs: number;
  gateway: Summary;
  sdk: Summary;
  unpairedAddedP50: number;
  paired: Summary;
}

const TEXT = "First sentence of the stream. And a second one.";

export async function firstByte(runs: number, firstChunkDelayMs: number, log: (s: string) => void): Promise<FirstByte> {
  const standin = await startStandin({ variant: "official", model: "cosyvoice1", firstChunkDelayMs });
  const gw = await startInProcessGateway(standin.url, "cosyvoice1", { concurrency: 2, queueSize: 8 });
  const cv = await CosyVoice.connect(standin.url, { model: "cosyvoice1", maxRetries: 0 });
  let seq = 0;
  const viaGateway = async () => {
    const id = `fb-${++seq}`;
    const t = performance.now();
    const res = await fetch(`${gw.url}/synthesize`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": id },
      body: JSON.stringify({ text: TEXT, voice: `builtin:${SPEAKER}`, stream: true }),
    });
    if (res.status !== 200 || !res.body) throw new Error(`gateway answered ${res.status}`);
    const reader = res.body.getReader();
    const first = await reader.read();
    const at = performance.now();
    if (first.done) throw new Error("empty stream");
    while (!(await reader.read()).done) {
      // read to the end, so the job finishes normally
    }
    const chunkAt = gw.trace(id)!.firstChunkAt!;
    return { ms: at - t, own: at - chunkAt };
  };
  const sdkOnce = async () => {
    const t = performance.now();
    let first: number | undefined;
    for await (const _chunk of cv.stream({ mode: "pretrained", text: TEXT, voice: SPEAKER })) first ??= performance.now() - t;
    return first!;
  };
  try {
    await viaGateway();
    await sdkOnce();
    const g: { ms: number; own: number }[] = [];
    const s: number[] = [];
    for (let i = 0; i < runs; i++) {
      if (i % 2 === 0) {
        g.push(await viaGateway());
        s.push(await sdkOnce());
      } else {
        s.push(await sdkOnce());
        g.push(await viaGateway());
      }
    }
    const gs = summarize(g.map((x) => x.ms));
    const ss = summarize(s);
    const paired = summarize(g.map((x) => x.own));
    log(`  gateway first byte p50 ${gs.p50} ms, sdk first chunk p50 ${ss.p50} ms, gateway's own p50 ${paired.p50} ms`);
    return { firstChunkDelayMs, gateway: gs, sdk: ss, unpairedAddedP50: round(gs.p50 - ss.p50), paired };
  } finally {
    await cv.close();
    await gw.close();
    await standin.stop();
  }
}
