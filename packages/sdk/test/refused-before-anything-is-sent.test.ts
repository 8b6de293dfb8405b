/**
 * Bad input never reaches the UI: an 8 kHz or 40 s prompt, empty or undecodable audio, a mode
 * the variant cannot do (official UI's instruct on CosyVoice3), a float seed. The injected fetch
 * sees no request after connect and the stand-in's record shows no call.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { CosyVoice, UnsupportedModeError, ValidationError, type SynthesisRequest } from "../src/index.ts";
import { calls, countingFetch, makeWav } from "./helpers.ts";

describe("refused before anything is uploaded or queued", () => {
  let standin: StandinHandle;
  let cv: CosyVoice;
  const counter = countingFetch();
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice3" });
    cv = await CosyVoice.connect(standin.url, { model: "cosyvoice3", fetch: counter.fetch });
  });
  beforeEach(() => {
    counter.requests.length = 0;
  });
  afterAll(async () => {
    await cv?.close();
    await standin?.stop();
  });

  const nothingSent = () => {
    expect(counter.requests).toEqual([]);
    expect(calls(standin.record)).toEqual([]);
  };

  const promptCases: [string, Uint8Array, string][] = [
    ["an 8 kHz prompt", makeWav({ sampleRate: 8000 }), "sample_rate"],
    ["a 40 s prompt", makeWav({ seconds: 40 }), "duration"],
    ["an empty prompt", new Uint8Array(), "empty"],
    ["a prompt that is not audio", new TextEncoder().encode("not audio, clearly"), "not_audio"],
  ];
  for (const [name, promptAudio, code] of promptCases) {
    it(`${name}: ValidationError(${code}) on promptAudio, no upstream call`, async () => {
      const err = await cv.synthesize({ mode: "clone", text: "Hi.", promptAudio, promptText: "P." }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues).toEqual([expect.objectContaining({ path: ["promptAudio"], code })]);
      nothingSent();
    });
  }

  it("official UI's instruct on CosyVoice3: UnsupportedModeError before queueing", async () => {
    const req: SynthesisRequest = { mode: "instruct", text: "Hi.", instruct: { dialect: "sichuan" }, promptAudio: makeWav() };
    const err = await cv.synthesize(req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedModeError);
    expect(err).toMatchObject({ mode: "instruct", variant: "official", code: "unsupported_mode" });
    await expect(cv.stream(req).next()).rejects.toBeInstanceOf(UnsupportedModeError);
    nothingSent();
  });

  it("a float seed and a speed out of range: ValidationError with both fields", async () => {
    const err = await cv
      .synthesize({ mode: "clone", text: "Hi.", promptAudio: makeWav(), promptText: "P.", seed: 1.5, speed: 9 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path[0]).sort()).toEqual(["seed", "speed"]);
    nothingSent();
  });
});
