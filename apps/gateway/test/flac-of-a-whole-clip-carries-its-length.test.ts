// A streamed FLAC cannot carry its length (its STREAMINFO is written first): ffprobe reports no
// duration. When the whole clip is known, GET /audio/{id}?format=flac or a /v1 speech answered
// from the synthesis cache, the gateway writes the FLAC through a file, so its header says the
// length and ffprobe reads it. The live case (a /v1 speech the backend is generating) stays a
// stream without a length: documented.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthWav } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { openCache } from "../src/service/cache/index.ts";
import { defaultConfig } from "../src/platform/config.ts";
import { probe } from "./helpers/ffprobe.ts";
import { SDK_READY, startFullStack, type FullStack } from "./helpers/full-stack.ts";
import { jsonPost, voiceForm } from "./helpers/harness.ts";

describe.skipIf(!SDK_READY)("FLAC of a whole clip", () => {
  let stack: FullStack;
  let voice: string;
  beforeAll(async () => {
    // A cache of its own: under the default data directory (.data/gateway in the checkout) the
    // next run's "live" request would be a hit from this run, and the live case untested.
    const cache = await openCache(defaultConfig({ dataDir: mkdtempSync(join(tmpdir(), "flac-cache-")) }), pino({ level: "silent" }));
    if (!cache) throw new Error("the default configuration has a cache");
    stack = await startFullStack({ variant: "cv3-en", model: "cosyvoice3" }, {}, { cache });
    voice = (await stack.gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav({ seconds: 3 }), name: "V", promptText: "I like long walks." }) })).json.id;
  });
  afterAll(() => stack?.close());

  it("GET /audio/{id}?format=flac: ffprobe reads the duration from the header, equal to the decoded length", async () => {
    const clip = await stack.gw.api("/synthesize", jsonPost({ text: "The sky is clear today. Let us go out.", voice }));
    const flac = await stack.gw.api(`${clip.json.url}?format=flac`);
    expect(flac.headers.get("content-type")).toBe("audio/flac");
    const p = await probe(flac.bytes, "flac");
    expect(p.probedMs).toBeGreaterThan(500);
    expect(Math.abs((p.probedMs ?? 0) - p.decodedMs)).toBeLessThan(50);
  });

  it("/v1 speech: live, FLAC without a length (the documented case); the same request again, from the cache, a complete FLAC", async () => {
    // Several sentences: the backend streams several chunks (one sentence is one chunk, whole at once).
    const body = { model: "tts-1", input: "The sky is clear today. Let us go out. We can walk to the park.", voice, response_format: "flac" };
    const live = await fetch(`${stack.gw.url}/v1/audio/speech`, jsonPost(body));
    const first = await probe(new Uint8Array(await live.arrayBuffer()), "flac");
    expect(first.decodedMs).toBeGreaterThan(500);
    expect(first.probedMs ?? 0).toBe(0);
    const cached = await fetch(`${stack.gw.url}/v1/audio/speech`, jsonPost(body));
    expect(cached.headers.get("content-type")).toBe("audio/flac");
    const again = await probe(new Uint8Array(await cached.arrayBuffer()), "flac");
    expect(again.probedMs).toBeGreaterThan(500);
    expect(Math.abs((again.probedMs ?? 0) - first.decodedMs)).toBeLessThan(50);
  });

  it("a cache hit in SSE is one delta of the complete FLAC and a done with usage", async () => {
    const res = await fetch(`${stack.gw.url}/v1/audio/speech`, jsonPost({ model: "tts-1", input: "The sky is clear today. Let us go out. We can walk to the park.", voice, response_format: "flac", stream_format: "sse" }));
    const events = (await res.text()).split("\n\n").filter((e) => e.startsWith("data: ")).map((e) => JSON.parse(e.slice(6)) as { type: string; audio?: string; usage?: { output_tokens: number } });
    expect(events.map((e) => e.type)).toEqual(["speech.audio.delta", "speech.audio.done"]);
    expect((await probe(Buffer.from(events[0]!.audio!, "base64"), "flac")).probedMs).toBeGreaterThan(500);
    expect(events[1]!.usage!.output_tokens).toBeGreaterThan(10);
  });
});
