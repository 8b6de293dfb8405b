// The consent phrase is matched word by word, in order, with room for what recognisers get
// wrong (a letter in four, a few missing or extra words), and a refusal says which words were
// not heard. CJK phrases count characters as words. The phrase is looked up by BCP 47 tag.
import { describe, expect, it } from "vitest";
import { matchPhrase, phraseFor, words } from "../src/service/consent-phrase.ts";

const PHRASE = "I, Ann Lee, agree that my voice may be recorded and cloned by this service.";

describe("matchPhrase", () => {
  it.each([
    ["the exact words, other punctuation and case", "i ann lee agree that my voice may be recorded and cloned by this service"],
    ["recogniser slips (recorder, clone, surface) and a missing name", "i and agree that my voice may be recorder and clone by this surface"],
    ["extra words around it", "okay so um I Ann Lee agree that my voice may be recorded and cloned by this service thank you"],
  ])("accepts %s", (_what, heard) => {
    expect(matchPhrase(PHRASE, heard).ok).toBe(true);
  });

  it.each([
    ["another sentence", "the weather is nice today and I like long walks"],
    ["half of it", "I Ann Lee agree that my voice"],
    ["the words out of order", "service this by cloned and recorded be may voice my that agree lee ann i"],
    ["nothing", ""],
  ])("refuses %s and names the words not heard", (_what, heard) => {
    const m = matchPhrase(PHRASE, heard);
    expect(m.ok).toBe(false);
    expect(m.missing.length).toBeGreaterThan(0);
    expect(m.matched + m.missing.length).toBe(m.total);
  });

  it("CJK: characters are words", () => {
    expect(words("我同意，录制我的声音。")).toEqual(["我", "同", "意", "录", "制", "我", "的", "声", "音"]);
    expect(matchPhrase("我同意录制我的声音", "我同意录制我的声音").ok).toBe(true);
    expect(matchPhrase("我同意录制我的声音", "今天天气很好").ok).toBe(false);
  });
});

describe("phraseFor", () => {
  const phrases = { en: "I agree.", "en-GB": "I agree, innit.", zh: "我同意。", "*": "OK." };
  it.each([
    ["en-GB", "I agree, innit."],
    ["EN-us", "I agree."],
    ["zh-CN", "我同意。"],
    ["de", "OK."],
  ])("%s -> %s", (tag, phrase) => {
    expect(phraseFor(phrases, tag)).toBe(phrase);
  });
  it("no phrase for the language and no `*`: none", () => {
    expect(phraseFor({ en: "I agree." }, "fr-FR")).toBeUndefined();
  });
});
