import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { splitIntoSegments, splitSentences } from "../src/jobs/splitter.ts";
import { chineseBook, englishBook } from "./jobs/texts.ts";

const squash = (s: string) => s.replace(/\s+/g, "");
const joined = (text: string, max: number) => splitIntoSegments(text, { maxChars: max }).map((s) => s.text).join(" ");

describe("splitting a long text into segments drops nothing", () => {
  it.each([
    ["English, 60,000 characters", englishBook(60_000, 7), 300],
    ["Chinese, 30,000 characters", chineseBook(30_000, 8), 120],
    ["English with a small segment size", englishBook(20_000, 9), 60],
    ["Chinese with a small segment size", chineseBook(10_000, 10), 40],
  ])("%s: segments joined equal the input, whitespace aside, none over the size", (_name, text, max) => {
    const segments = splitIntoSegments(text, { maxChars: max });
    expect(squash(segments.map((s) => s.text).join(""))).toBe(squash(text));
    for (const s of segments) {
      expect(s.text.length).toBeLessThanOrEqual(max);
      expect(s.text).toBe(s.text.trim());
      expect(s.text.length).toBeGreaterThan(0);
    }
    // Each segment's sentences are the segment, nothing else.
    for (const s of segments) expect(squash(s.sentences.map((x) => x.text).join(""))).toBe(squash(s.text));
  });

  it("cuts Chinese at 。！？ with no space after them, and keeps closing quotes with their sentence", () => {
    const s = splitSentences("你好。今天天气很好！你去吗？“我去。”他说。好的……我们走吧。");
    expect(s.map((x) => x.text)).toEqual(["你好。", "今天天气很好！", "你去吗？", "“我去。”", "他说。", "好的……", "我们走吧。"]);
  });

  it("cuts Japanese and Korean at their sentence ends", () => {
    expect(splitSentences("今日は晴れです。散歩に行きましょう！いいですか？").map((x) => x.text)).toEqual(["今日は晴れです。", "散歩に行きましょう！", "いいですか？"]);
    expect(splitSentences("안녕하세요. 오늘 날씨가 좋네요! 산책할까요?").map((x) => x.text)).toEqual(["안녕하세요.", "오늘 날씨가 좋네요!", "산책할까요?"]);
  });

  it("does not end an English sentence at a decimal point, an abbreviation before a name, or inside quotes", () => {
    const s = splitSentences('Dr. Smith walked 3.5 km. "Is it far?" she asked. It was, e.g. this far. The end.');
    expect(s.map((x) => x.text)).toEqual(["Dr. Smith walked 3.5 km.", '"Is it far?"', "she asked.", "It was, e.g. this far.", "The end."]);
  });

  it("cuts a sentence longer than a segment at clauses, as parts of one sentence (one caption cue)", () => {
    const long = "第一句很长，" + "我们一直走在山路上，".repeat(20) + "终于到了。短句。";
    const parts = splitSentences(long, 50);
    const first = parts.filter((p) => p.sentence === 0);
    expect(first.length).toBeGreaterThan(1);
    for (const p of first.slice(0, -1)) expect(p.text).toMatch(/，$/);
    expect(parts.at(-1)).toMatchObject({ text: "短句。", sentence: 1 });
  });

  it("cuts a CJK run with no punctuation at all by length, never inside a surrogate pair", () => {
    const run = "𠀀".repeat(30) + "汉".repeat(100);
    const parts = splitSentences(run, 25);
    expect(parts.map((p) => p.text).join("")).toBe(run);
    for (const p of parts) expect(p.text.length).toBeLessThanOrEqual(25);
    for (const p of parts) expect(/[\uD800-\uDBFF]$/.test(p.text)).toBe(false);
  });

  it("carries a language tag to the segments after it, without changing the texts", () => {
    const text = "<|en|>" + "This is English. ".repeat(20) + "<|zh|>" + "这是中文。".repeat(30);
    const segments = splitIntoSegments(text, { maxChars: 60 });
    expect(squash(segments.map((s) => s.text).join(""))).toBe(squash(text));
    for (const s of segments) expect(s.speak).toMatch(/^<\|(en|zh)\|>/);
    expect(segments.at(-1)?.speak.startsWith("<|zh|>")).toBe(true);
    for (const s of segments) expect(s.text).not.toMatch(/<\|[a-z]*$/);
  });

  it("drops nothing for any text at all (property)", () => {
    const pieces = fc.constantFrom("Hello", " ", "world", ".", "!", "?", "。", "，", "你好", "\n\n", "…", '"', "」", "3.5", "Dr.", "e.g.", "<|en|>", "𠀀", "、", "x".repeat(50));
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 200 }), fc.integer({ min: 8, max: 120 }), (parts, max) => {
        const text = parts.join("");
        expect(squash(joined(text, max))).toBe(squash(text));
        for (const s of splitIntoSegments(text, { maxChars: max })) expect(s.text.length).toBeLessThanOrEqual(max);
      }),
      { numRuns: 300 },
    );
  });
});
