/**
 * Does a consent recording say the consent phrase? Word by word, in order, with room for what
 * speech recognisers get wrong: a word may be off by about one letter in four ("recorded" heard
 * as "recorder"), words may be missing or added, and at least {@link MIN_MATCHED} of the
 * phrase's words must be found in order. Pure: the transcript comes from the ASR box.
 */

/** The share of the phrase's words that must be heard, in order. */
export const MIN_MATCHED = 0.75;

/** Han, Hiragana, Katakana, Hangul: written without spaces, so each character counts as a word. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/**
 * The words of a text, lower-cased, without punctuation; CJK characters one by one.
 * @example words("I, Ann, agree!") // ["i", "ann", "agree"]
 */
export function words(text: string): string[] {
  const out: string[] = [];
  for (const token of text.normalize("NFKC").toLowerCase().split(/[^\p{L}\p{N}']+/u)) {
    const t = token.replace(/^'+|'+$/g, "");
    if (t === "") continue;
    if (UNSPACED.test(t)) out.push(...[...t].filter((c) => c.trim() !== ""));
    else out.push(t);
  }
  return out;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** Two words are the same when they differ by at most one letter in four. */
function sameWord(expected: string, heard: string): boolean {
  if (expected === heard) return true;
  return editDistance(expected, heard) <= Math.floor(Math.max(expected.length, heard.length) / 4);
}

/** What the comparison found. */
export interface PhraseMatch {
  ok: boolean;
  /** Phrase words heard, in order. */
  matched: number;
  /** Words in the phrase. */
  total: number;
  /** The phrase's words that were not heard. */
  missing: string[];
}

/**
 * Compares a transcript with the phrase (longest common subsequence of words, each compared
 * with {@link sameWord}).
 * @example matchPhrase("I agree that my voice is recorded", "i agree that my voice is recorder") // { ok: true, matched: 7, total: 7, missing: [] }
 */
export function matchPhrase(phrase: string, heard: string, minMatched = MIN_MATCHED): PhraseMatch {
  const want = words(phrase);
  const got = words(heard);
  // table[i][j]: words of want[i..] matched in got[j..].
  const table = Array.from({ length: want.length + 1 }, () => new Array<number>(got.length + 1).fill(0));
  for (let i = want.length - 1; i >= 0; i--) {
    for (let j = got.length - 1; j >= 0; j--) {
      const row = table[i] as number[];
      const next = table[i + 1] as number[];
      row[j] = sameWord(want[i] as string, got[j] as string) ? (next[j + 1] ?? 0) + 1 : Math.max(next[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const missing: string[] = [];
  let i = 0;
  let j = 0;
  while (i < want.length) {
    const w = want[i] as string;
    if (j < got.length && sameWord(w, got[j] as string) && (table[i]?.[j] ?? 0) === (table[i + 1]?.[j + 1] ?? 0) + 1) {
      i++;
      j++;
    } else if (j < got.length && (table[i]?.[j + 1] ?? 0) >= (table[i + 1]?.[j] ?? 0)) {
      j++;
    } else {
      missing.push(w);
      i++;
    }
  }
  const matched = table[0]?.[0] ?? 0;
  return { ok: want.length > 0 && matched / want.length >= minMatched, matched, total: want.length, missing };
}

/**
 * The phrase for a language: the exact tag, else its primary language (`en` for `en-US`), else
 * the one for every language (`*`).
 * @example phraseFor({ en: "I agree.", "*": "OK." }, "en-GB") // "I agree."
 */
export function phraseFor(phrases: Readonly<Record<string, string>>, language: string): string | undefined {
  const byLower = new Map(Object.entries(phrases).map(([k, v]) => [k.toLowerCase(), v]));
  const tag = language.toLowerCase();
  return byLower.get(tag) ?? byLower.get(tag.split(/[-_]/)[0] ?? tag) ?? byLower.get("*");
}
