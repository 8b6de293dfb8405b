/**
 * Figure 6: what the OpenAI route's encoding adds to the first audio byte. A client posts
 * `/v1/audio/speech` for MP3 (the default every OpenAI client gets); paired per request, its
 * first body byte minus the moment the SDK inside the gateway yielded the first AAC chunk
 * (decode, MP3 encode, write: the ffmpeg started while the backend was still working). The
 * same run's REST stream (AAC as it comes, no encoder) is the baseline of what the gateway adds
 * without encoding.
 */
import { startStandin } from "@cosyvoice3/testkit";
import { startInProcessGateway } from "../inproc.ts";
import { round, summarize, type Summary } from "../stats.ts";
import { SPEAKER } from "./sdk-overhead.ts";

export interface OpenAIFirstByte {
  firstChunkDelayMs: number;
  /** First MP3 byte through /v1/audio/speech minus the SDK's first chunk, per request. */
  mp3: Summary;
  /** The same for REST /synthesize streaming AAC (no encoder), interleaved in the same run. */
  restAac: Summary;
  /** What the encoder itself adds: p50(mp3) - p50(restAac). */
  encoderAddedP50: number;
}

const TEXT = "First sentence of the stream. And a second one.";

export async function openaiFirstByte(runs: number, firstChunkDelayMs: number, log: (s: string) => void): Promise<OpenAIFirstByte> {
  const standin = await startStandin({ variant: "official", model: "cosyvoice1", firstChunkDelayMs });
  const gw = await startInProcessGateway(standin.url, "cosyvoice1", { concurrency: 2, queueSize: 8 });
  let seq = 0;
  const firstByte = async (path: string, body: unknown): Promise<number> => {
    const id = `ofb-${++seq}`;
    const res = await fetch(`${gw.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": id },
      body: JSON.stringify(body),
    });
    if (res.status !== 200 || !res.body) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    const reader = res.body.getReader();
    const first = await reader.read();
    const at = performance.now();
    if (first.done) throw new Error("empty stream");
    while (!(await reader.read()).done) {
      // read to the end, so the job finishes normally
    }
    return at - gw.trace(id)!.firstChunkAt!;
  };
  const mp3 = () => firstByte("/v1/audio/speech", { model: "tts-1", input: TEXT, voice: SPEAKER, response_format: "mp3" });
  const aac = () => firstByte("/synthesize", { text: TEXT, voice: `builtin:${SPEAKER}`, stream: true });
  try {
    await mp3();
    await aac();
    const m: number[] = [];
    const a: number[] = [];
    for (let i = 0; i < runs; i++) {
      if (i % 2 === 0) {
        m.push(await mp3());
        a.push(await aac());
      } else {
        a.push(await aac());
        m.push(await mp3());
      }
    }
    const ms = summarize(m);
    const as = summarize(a);
    log(`  /v1/audio/speech mp3 first byte after the SDK's first chunk p50 ${ms.p50} ms (REST aac ${as.p50} ms)`);
    return { firstChunkDelayMs, mp3: ms, restAac: as, encoderAddedP50: round(ms.p50 - as.p50) };
  } finally {
    await gw.close();
    await standin.stop();
  }
}
