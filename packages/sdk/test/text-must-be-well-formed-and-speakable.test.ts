/**
 * Text the model cannot speak is refused by the schema, before any I/O: a lone UTF-16 surrogate
 * (a JSON `\ud800` escape gets one past every decoder) fails in the backend, and text with no
 * letter or digit (control characters, punctuation, symbols) leaves CosyVoice's frontend with
 * nothing to say. The rest of TextSchema's behaviour is unchanged.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InstructSchema, MAX_TEXT_CHARS, SynthesisRequestSchema, TextSchema, ValidationError } from "../src/index.ts";
import { checkRequest } from "../src/internal/payload.ts";
import { recognise, type GradioConfig } from "../src/internal/recognize.ts";

const messages = (text: unknown): string[] => {
  const r = TextSchema.safeParse(text);
  return r.success ? [] : r.error.issues.map((i) => i.message);
};

describe("text must be well-formed Unicode", () => {
  it.each([
    ["a lone high surrogate", "Hello \ud800 there"],
    ["a lone low surrogate", "Hello \udc00 there"],
    ["a high surrogate at the end", "Hello\ud83d"],
    ["two high surrogates in a row", "a\ud83d\ud83d"],
    ["a pair in the wrong order", "a\ude00\ud83d"],
  ])("%s is refused", (_name, text) => {
    expect(messages(text)).toEqual(["text must be well-formed Unicode"]);
  });

  it("surrogate pairs (emoji, astral CJK) are fine", () => {
    expect(TextSchema.safeParse("Hi \u{1F600} \u{20000}.").success).toBe(true);
  });
});

describe("text must contain speakable characters", () => {
  it.each([
    ["control characters only", "\u0000\u0001\u0002"],
    ["DEL and C1 controls", "\u007f\u0085\u009f"],
    ["zero-width and format characters", "\u200b\u200d\u2060\ufeff\u00ad"],
    ["punctuation only", "...!?。，"],
    ["symbols and emoji only", "\u{1F600}\u{1F389} + = $"],
    ["whitespace around a control character", "  \u0000  "],
  ])("%s is refused", (_name, text) => {
    expect(messages(text)).toEqual(["text must contain speakable characters"]);
  });

  it.each([
    ["English", "Hello."],
    ["Chinese", "你好。"],
    ["a digit alone", "7"],
    ["letters among controls and tags", "\u0000[breath]Hi<strong>there</strong>"],
    ["a CosyVoice3 language tag", "<|en|>Good morning."],
    ["Arabic", "مرحبا"],
  ])("%s is accepted", (_name, text) => {
    expect(TextSchema.safeParse(text).success).toBe(true);
  });
});

describe("the rest of TextSchema", () => {
  it("empty and whitespace-only text says only that it is empty", () => {
    expect(messages("")).toEqual(["text must not be empty"]);
    expect(messages(" \n\t ")).toEqual(["text must not be empty"]);
  });

  it("trims, and caps the length", () => {
    expect(TextSchema.parse("  Hi.  ")).toBe("Hi.");
    expect(TextSchema.safeParse("a".repeat(MAX_TEXT_CHARS)).success).toBe(true);
    expect(messages("a".repeat(MAX_TEXT_CHARS + 1))).toEqual([`text must be at most ${MAX_TEXT_CHARS} characters`]);
  });

  it("a non-string is a type error", () => {
    expect(TextSchema.safeParse(5).success).toBe(false);
  });
});

describe("the client refuses such text before any I/O", () => {
  const official3 = recognise(
    JSON.parse(readFileSync(new URL("./fixtures/config-official-cosyvoice3.json", import.meta.url), "utf8")) as GradioConfig,
    undefined,
  );
  it.each([
    ["a lone surrogate", "Hi \ud800", "text must be well-formed Unicode"],
    ["control characters", "\u0001\u0002", "text must contain speakable characters"],
  ])("%s is a ValidationError on text", (_name, text, message) => {
    const thrown = (() => {
      try {
        checkRequest(official3, { mode: "crossLingual", text, promptAudio: new Uint8Array([1]) });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).issues).toEqual([expect.objectContaining({ path: ["text"], message })]);
  });
});

describe("promptText and free-text instruct must be well-formed Unicode too", () => {
  it("a lone surrogate in promptText is refused, naming the field", () => {
    const r = SynthesisRequestSchema.safeParse({ mode: "clone", text: "Hello.", promptText: "Hi \ud800", promptAudio: new Uint8Array(4) });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([["promptText", "promptText must be well-formed Unicode"]]);
  });

  it("a lone surrogate in a free-text instruction is refused", () => {
    expect(InstructSchema.safeParse("Speak \udc00 softly").success).toBe(false);
    expect(InstructSchema.safeParse("Speak softly \u{1F600}").success).toBe(true);
  });
});
