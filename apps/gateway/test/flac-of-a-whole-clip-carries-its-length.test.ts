// A streamed FLAC cannot carry its length (its STREAMINFO is written first): ffprobe reports no
// duration. When the whole clip is known, GET /audio/{id}?format=flac, the gateway writes the
// FLAC through a file, so its header says the length and ffprobe reads it. The live case
// (POST /v1/audio/speech with response_format flac) stays a stream without a length: documented.
import { synthWav } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probe } from "./helpers/ffprobe.ts";
import { SDK_READY, startFullStack, type FullStack } from "./helpers/full-stack.ts";
import { jsonPost, voiceForm } from "./helpers/harness.ts";

describe.skipIf(!SDK_READY)("FLAC of a whole clip", () => {
  let stack: FullStack;
  let voice: string;
  beforeAll(async () => {
    stack = await startFullStack({ variant: "cv3-en", model: "cosyvoice3" });
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

  it("the live /v1 stream is FLAC without a length (the documented case)", async () => {
    const res = await fetch(`${stack.gw.url}/v1/audio/speech`, jsonPost({ model: "tts-1", input: "The sky is clear today.", voice, response_format: "flac" }));
    const p = await probe(new Uint8Array(await res.arrayBuffer()), "flac");
    expect(p.decodedMs).toBeGreaterThan(500);
    expect(p.probedMs ?? 0).toBe(0);
  });
});
