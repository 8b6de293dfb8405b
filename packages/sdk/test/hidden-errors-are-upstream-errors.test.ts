/**
 * The UI's hidden errors (`{"error": null}`: the UI runs without show_error) reject with
 * UpstreamError, never with empty or partial audio; they are not retried (the job was accepted).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRecord, startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { CosyVoice, UpstreamError } from "../src/index.ts";
import { countingFetch, makeWav } from "./helpers.ts";

describe("hidden errors", () => {
  let standin: StandinHandle;
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice3", failRate: 1 });
  });
  afterAll(async () => {
    await standin?.stop();
  });

  it("a job the model fails: UpstreamError saying the detail is hidden; one join only", async () => {
    const counter = countingFetch();
    const cv = await CosyVoice.connect(standin.url, { fetch: counter.fetch, maxRetries: 3 });
    const err = await cv.synthesize({ mode: "crossLingual", text: "One. Two. Three.", promptAudio: makeWav() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).code).toBe("upstream");
    expect((err as UpstreamError).retryable).toBe(false);
    expect((err as UpstreamError).message).toMatch(/hides the Python error/);
    expect(readRecord(standin.record).some((e) => e.event === "error")).toBe(true);
    expect(counter.requests.filter((r) => r.path.endsWith("/queue/join"))).toHaveLength(1);
    await cv.close();
  });
});

describe("why the prefix matters", () => {
  let standin: StandinHandle;
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice3" });
  });
  afterAll(async () => {
    await standin?.stop();
  });

  it("a CosyVoice3 model stated as CosyVoice2 gets no prefix, and the model's assertion comes back as UpstreamError", async () => {
    const cv = await CosyVoice.connect(standin.url, { model: "cosyvoice2" });
    const err = await cv
      .synthesize({ mode: "clone", text: "Hello.", promptAudio: makeWav(), promptText: "Prompt." })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    const failure = readRecord(standin.record).find((e) => e.event === "error");
    expect(String(failure?.["message"])).toMatch(/endofprompt/);
    await cv.close();
  });
});
