/**
 * A bare string as promptAudio is refused: an app that passes user input through would otherwise
 * let "/etc/passwd" read a local file or "http://10.0.0.1/" make a request to any host. The kind
 * must be explicit (bytes, `{ path }`, `{ url }`); the refusal says how, and nothing is read,
 * fetched or sent.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CosyVoice, SynthesisRequestSchema, ValidationError } from "../src/index.ts";
import { calls, countingFetch, makeWav } from "./helpers.ts";

describe("promptAudio kinds", () => {
  let standin: StandinHandle;
  let cv: CosyVoice;
  const counter = countingFetch();
  const dir = mkdtempSync(join(tmpdir(), "sdk-kinds-"));
  const path = join(dir, "prompt.wav");
  writeFileSync(path, makeWav({ seconds: 2 }));

  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice3" });
    cv = await CosyVoice.connect(standin.url, { fetch: counter.fetch });
  });
  afterAll(async () => {
    await cv?.close();
    await standin?.stop();
  });

  const refused = async (promptAudio: unknown) => {
    counter.requests.length = 0;
    const before = calls(standin.record).length;
    const err = await cv.synthesize({ mode: "crossLingual", text: "Hello.", promptAudio } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(counter.requests).toEqual([]);
    expect(calls(standin.record)).toHaveLength(before);
    return (err as ValidationError).issues;
  };

  it.each([
    ["a local path", path],
    ["a URL", `${"http"}://127.0.0.1:1/prompt.wav`],
    ["a file: URL", "file:///etc/passwd"],
  ])("a bare string (%s) is a ValidationError that names the explicit kinds", async (_what, value) => {
    const issues = await refused(value);
    expect(issues).toEqual([expect.objectContaining({ path: ["promptAudio"], code: "bare_string" })]);
    expect(issues[0]!.message).toMatch(/\{ path: .*\{ url: /);
  });

  it("a bare URL object is refused the same way (wrap it: { url })", async () => {
    const issues = await refused(new URL("http://127.0.0.1:1/prompt.wav"));
    expect(issues[0]).toMatchObject({ code: "bare_url", message: expect.stringMatching(/\{ url \}/) });
  });

  it.each([
    ["{ url } with file:", { url: "file:///etc/passwd" }, /http\(s\)/],
    ["{ url } that is not a URL", { url: "prompt.wav" }, /absolute http\(s\) URL/],
    ["{ path: '' }", { path: "" }, /non-empty/],
    ["a number", 42, /bytes .*\{ path \} or \{ url \}/],
  ])("%s is refused with a message that says what is allowed", async (_what, value, message) => {
    const issues = await refused(value);
    expect(issues[0]!.message).toMatch(message);
  });

  it("the explicit kinds are accepted: { path } reads the file, bytes are sent as they are", async () => {
    const byPath = await cv.synthesize({ mode: "crossLingual", text: "Hello from a file.", promptAudio: { path } });
    expect(byPath.sampleRate).toBe(24_000);
    const byBytes = await cv.synthesize({ mode: "crossLingual", text: "Hello from bytes.", promptAudio: { data: makeWav({ seconds: 2 }), name: "me" } });
    expect(byBytes.sampleRate).toBe(24_000);
  });

  it("the schema alone refuses a bare string (the gateway and other callers parse with it)", () => {
    const r = SynthesisRequestSchema.safeParse({ mode: "crossLingual", text: "Hi.", promptAudio: "/etc/passwd" });
    expect(r.success).toBe(false);
  });
});
