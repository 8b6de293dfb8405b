// Long text two ways. OpenAI allows 4,096 characters, more than one backend job takes: the
// gateway cuts it at sentence ends into several jobs, in order, and streams them as one file.
// LibreChat instead cuts the text itself and plays each piece's MP3 back to back: the pieces
// concatenate into one valid MP3 whose duration is their sum.
import { readRecord, synthWav } from "@cosyvoice3/testkit";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probe } from "./helpers/ffprobe.ts";
import { SDK_READY, SDK_SKIP_REASON, startFullStack, type FullStack } from "./helpers/full-stack.ts";
import { voiceForm } from "./helpers/harness.ts";

const SENTENCES = [
  "The first sentence is about the morning.",
  "The second one talks about the long walk by the river.",
  "A third sentence describes the old bridge and the boats.",
  "The fourth brings us back home in the evening.",
  "And the fifth says good night.",
];
const TEXT = SENTENCES.join(" ");

describe.skipIf(!SDK_READY)(`openai: long input${SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`}`, () => {
  let stack: FullStack;
  let client: OpenAI;
  beforeAll(async () => {
    // A small text limit, so a paragraph needs several jobs.
    stack = await startFullStack({ variant: "cv3-en", model: "cosyvoice3" }, { maxTextChars: 120, voiceAliases: { nova: "Nia" } });
    await stack.gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav({ seconds: 3 }), name: "Nia", promptText: "I like long walks." }) });
    client = new OpenAI({ apiKey: "any", baseURL: `${stack.gw.url}/v1`, maxRetries: 0 });
  });
  afterAll(() => stack?.close());

  const ttsTexts = (fromCall: number) =>
    readRecord(stack.standin.record)
      .filter((e) => e.event === "call" && e["fn"] === "generate_audio")
      .slice(fromCall)
      .map((e) => String((e["inputs"] as Record<string, { value: unknown }>)["tts_text"]?.value));
  const callCount = () => readRecord(stack.standin.record).filter((e) => e.event === "call" && e["fn"] === "generate_audio").length;

  it("an input over the backend's limit becomes several jobs at sentence ends, in order, in one MP3", async () => {
    const before = callCount();
    const res = await client.audio.speech.create({ model: "tts-1", voice: "nova", input: TEXT });
    const whole = await probe(new Uint8Array(await res.arrayBuffer()), "mp3");
    const texts = ttsTexts(before);
    expect(texts.length).toBe(3);
    for (const t of texts) expect(t.length).toBeLessThanOrEqual(120);
    // Each job ends at a sentence end, and together they are the input in order.
    for (const t of texts) expect(t).toMatch(/\.$/);
    expect(texts.join(" ").replace(/\s+/g, " ")).toContain(SENTENCES.join(" "));
    // One continuous file as long as the jobs' audio together.
    const parts = await Promise.all(texts.map(async (t) => probe(new Uint8Array(await (await client.audio.speech.create({ model: "tts-1", voice: "nova", input: t, response_format: "wav" })).arrayBuffer()), "wav")));
    const sum = parts.reduce((s, p) => s + p.decodedMs, 0);
    expect(Math.abs(whole.decodedMs - sum)).toBeLessThan(100);
  });

  it("the pieces LibreChat requests one by one concatenate into one MP3 whose duration is their sum", async () => {
    const pieces = [SENTENCES.slice(0, 2).join(" "), SENTENCES.slice(2, 4).join(" "), SENTENCES[4]!];
    const mp3s = [];
    for (const input of pieces) mp3s.push(new Uint8Array(await (await client.audio.speech.create({ model: "tts-1", voice: "nova", input, response_format: "mp3" })).arrayBuffer()));
    const each = await Promise.all(mp3s.map((b) => probe(b, "mp3")));
    const joined = await probe(Buffer.concat(mp3s), "mp3");
    expect(joined.codec).toBe("mp3");
    const sum = each.reduce((s, p) => s + p.decodedMs, 0);
    expect(Math.abs(joined.decodedMs - sum)).toBeLessThan(1);
    // What a player shows from the file's size agrees too (CBR, no Xing header claiming the first piece's length).
    expect(Math.abs(joined.probedMs! - sum)).toBeLessThan(100);
  });

  it("4,096 characters are accepted (OpenAI's limit), 4,097 are not", async () => {
    const long = `${"Hello there. ".repeat(315)}Hi.`.slice(0, 4096);
    expect(long.length).toBe(4096);
    const ok = await fetch(`${stack.gw.url}/v1/audio/speech`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input: long, voice: "nova", response_format: "aac" }) });
    expect(ok.status).toBe(200);
    const reader = ok.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    const tooLong = await fetch(`${stack.gw.url}/v1/audio/speech`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input: `${long}x`, voice: "nova" }) });
    expect(tooLong.status).toBe(400);
  });
});
