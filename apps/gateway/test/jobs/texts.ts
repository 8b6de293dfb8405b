/**
 * Long texts generated here for the narration tests: English and Chinese prose built from a
 * seeded generator (so every run gets the same book), with what trips splitters: abbreviations,
 * decimals, quotes, ellipses, very long sentences with clauses, CJK text without spaces.
 */
import { seeded } from "@cosyvoice3/testkit";

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

const EN_SUBJECTS = ["The old lighthouse keeper", "Dr. Ellis", "A quiet fox", "Mrs. Hale from the village", "The river", "Our narrator", "The last train"];
const EN_VERBS = ["watched", "remembered", "crossed", "followed", "measured", "described", "ignored"];
const EN_OBJECTS = ["the grey horizon", "a letter sealed in 1893", "3.5 kilometres of frozen road", "the lamps along the pier", "every word of the old song", "the map, e.g. the one in the attic"];
const EN_TAILS = [".", "!", "?", "…", '."', "!'"];

/**
 * English prose of at least `chars` characters, paragraphs included.
 * @example englishBook(10_000, 1)
 */
export function englishBook(chars: number, seed = 1): string {
  const r = seeded(seed);
  const paragraphs: string[] = [];
  let total = 0;
  while (total < chars) {
    const sentences: string[] = [];
    const n = 3 + Math.floor(r() * 5);
    for (let i = 0; i < n; i++) {
      let s = `${pick(r, EN_SUBJECTS)} ${pick(r, EN_VERBS)} ${pick(r, EN_OBJECTS)}`;
      // Now and then a very long sentence, held together by commas and semicolons only.
      if (r() < 0.15) for (let k = 0; k < 12; k++) s += `${pick(r, [",", ";", ", and"])} ${pick(r, EN_VERBS)} ${pick(r, EN_OBJECTS)}`;
      s += pick(r, EN_TAILS);
      if (r() < 0.1) s = `"${s}" she said.`;
      sentences.push(s);
    }
    const p = sentences.join(" ");
    paragraphs.push(p);
    total += p.length + 2;
  }
  return paragraphs.join("\n\n");
}

const ZH_SUBJECTS = ["老渔夫", "山里的孩子们", "那位年轻的医生", "远方的列车", "我的祖母", "城市的灯火"];
const ZH_VERBS = ["静静地看着", "想起了", "穿过了", "慢慢地记下", "一直等待着", "轻声讲述着"];
const ZH_OBJECTS = ["海边的灰色天空", "一八九三年的旧信", "三点五公里的冰冻山路", "码头上的一排路灯", "那首老歌的每一个字", "阁楼里那张发黄的地图"];
const ZH_TAILS = ["。", "！", "？", "……", "。”", "！」"];

/**
 * Chinese prose (no spaces, CJK punctuation) of at least `chars` characters.
 * @example chineseBook(10_000, 2)
 */
export function chineseBook(chars: number, seed = 2): string {
  const r = seeded(seed);
  const paragraphs: string[] = [];
  let total = 0;
  while (total < chars) {
    let p = "";
    const n = 3 + Math.floor(r() * 5);
    for (let i = 0; i < n; i++) {
      let s = `${pick(r, ZH_SUBJECTS)}${pick(r, ZH_VERBS)}${pick(r, ZH_OBJECTS)}`;
      if (r() < 0.15) for (let k = 0; k < 14; k++) s += `${pick(r, ["，", "；", "、"])}${pick(r, ZH_VERBS)}${pick(r, ZH_OBJECTS)}`;
      // And a run with no punctuation at all, longer than a segment.
      if (r() < 0.03) s += "的".repeat(10) + pick(r, ZH_OBJECTS).repeat(40);
      s += pick(r, ZH_TAILS);
      if (r() < 0.1) s = `“${s}`;
      p += s;
    }
    paragraphs.push(p);
    total += p.length + 1;
  }
  return paragraphs.join("\n");
}
