// OpenAI's 4,096-character input is longer than one backend job takes: the text is cut into
// pieces that each fit, at sentence ends where there is one, and nothing is lost or reordered.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { splitText } from "../src/doors/openai/split-text.ts";

const squash = (s: string) => s.replace(/\s+/g, "");

describe("splitText", () => {
  it("keeps a text that fits whole", () => {
    expect(splitText("  Hello there. How are you?  ", 2000)).toEqual(["Hello there. How are you?"]);
  });

  it("cuts after the last sentence end that fits", () => {
    expect(splitText("One two. Three four. Five six.", 21)).toEqual(["One two. Three four.", "Five six."]);
  });

  it("cuts CJK sentences at their full stops, which have no space after them", () => {
    expect(splitText("今天天气很好。我们出去走走吧。好的。", 8)).toEqual(["今天天气很好。", "我们出去走走吧。", "好的。"]);
  });

  it("falls back to a clause, then a space, then a hard cut", () => {
    expect(splitText("alpha beta, gamma delta epsilon", 16)).toEqual(["alpha beta,", "gamma delta", "epsilon"]);
    expect(splitText("一二三四五六七八九十", 4)).toEqual(["一二三四", "五六七八", "九十"]);
  });

  it("never cuts a surrogate pair in two", () => {
    const pieces = splitText("𝒜𝒜𝒜𝒜𝒜", 3);
    for (const p of pieces) expect(p).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(pieces.join("")).toBe("𝒜𝒜𝒜𝒜𝒜");
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(3);
  });

  it("joins a piece of bare punctuation to its neighbour", () => {
    expect(splitText("Hello there. ... Bye now.", 13)).toEqual(["Hello there.", "... Bye now."]);
  });

  const word = fc.stringMatching(/^[A-Za-z\u4e00-\u4e10]{1,12}$/);
  const sep = fc.constantFrom(" ", ", ", ". ", "! ", "? ", "。", "\n", "; ");
  const text = fc.array(fc.tuple(word, sep), { minLength: 1, maxLength: 300 }).map((parts) => parts.map(([w, s]) => w + s).join(""));

  it("every piece fits, says something, and together they are the text in order", () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 20, max: 400 }), (t, max) => {
        const pieces = splitText(t, max);
        for (const p of pieces) {
          expect(p.length).toBeLessThanOrEqual(max);
          expect(p).toMatch(/[\p{L}\p{N}]/u);
        }
        expect(squash(pieces.join(""))).toBe(squash(t));
      }),
      { numRuns: 300 },
    );
  });

  it("a 4,096-character text becomes few pieces when sentences are short", () => {
    const t = "This sentence is short. ".repeat(171).slice(0, 4096);
    const pieces = splitText(t, 2000);
    expect(pieces.length).toBe(3);
    for (const p of pieces.slice(0, -1)) expect(p.endsWith(".")).toBe(true);
  });
});
