/**
 * Cuts a long text (a chapter, a book) into sentences and packs them into segments, one
 * synthesis each. Pure. Every piece is an exact slice of the input, so the segments' texts
 * joined give the input back, whitespace at the cuts aside.
 *
 * Sentence ends in every script CosyVoice speaks: Latin `.!?` followed by a space (or the end),
 * CJK `。！？` and `；`-free full stops with no space after them (Chinese and Japanese write none),
 * the ellipsis `…`, closing quotes and brackets kept with their sentence, and blank lines.
 * Decimal points (`3.14`) and abbreviations before a lower-case word do not end a sentence. A
 * sentence longer than a segment is cut at clauses (`,;:，；：、`), then at spaces, then anywhere
 * (CJK runs have no spaces), never inside a `<|en|>` language tag or a surrogate pair.
 */

/** One sentence (or, for a sentence cut at clauses, one part of it). */
export interface Sentence {
  /** Exact slice of the input, trimmed. */
  text: string;
  /** Index of the sentence this part belongs to: parts of one long sentence share it (one caption cue). */
  sentence: number;
  /** Where the slice starts in the input. */
  from: number;
  /** Where it ends (exclusive). */
  to: number;
}

/** One synthesis: sentences packed up to the segment size. */
export interface Segment {
  index: number;
  /** The slices joined with the whitespace that stood between them in the input. */
  text: string;
  /** What is sent to the model: `text`, led by the language tag in force where it starts when it has none of its own. */
  speak: string;
  /** The sentences (or parts) it holds, in order. */
  sentences: Sentence[];
}

/** Options of {@link splitIntoSegments}. */
export interface SplitOptions {
  /** Longest segment. @default 300 @unit characters (UTF-16 code units, as the backend counts) */
  maxChars?: number;
}

const CLOSERS = "\"')\\]}»」』”’）】》〉";
const CJK_ENDS = "。！？｡";
const LATIN_ENDS = ".!?…";
/** A Latin sentence end: the marks, closing quotes, then whitespace or the end of the text. */
const LATIN_END = new RegExp(`[${LATIN_ENDS}]+[${CLOSERS}]*(?=\\s|$)`, "gu");
/** A CJK sentence end: no space needed after it. */
const CJK_END = new RegExp(`[${CJK_ENDS}]+[${CLOSERS}]*|…{1,2}[${CLOSERS}]*(?=[^\\s${LATIN_ENDS}])`, "gu");
const PARAGRAPH = /\n\s*\n/g;
const CLAUSE = /[,;:，；：、]+["'”’」』）)]*\s*/g;
const SPACE = /\s+/g;
const TAG = /<\|[^|<>\s]{1,32}\|>/g;
/** A word before a full stop that does not end the sentence (`Dr. Smith`, `e.g. this`). */
const ABBREVIATION = /(?:^|\s)(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|vs|etc|e\.g|i\.e|No|Vol|pp|cf)\.$/i;

/** Positions right after each sentence end, in order. */
function sentenceEnds(text: string): number[] {
  const ends = new Set<number>();
  for (const m of text.matchAll(LATIN_END)) {
    const end = m.index + m[0].length;
    const before = text.slice(Math.max(0, m.index - 6), m.index + 1);
    // "Dr. Smith" and "e.g. this": no end when an abbreviation's dot is followed by more words.
    if (m[0] === "." && ABBREVIATION.test(before) && /^\s+[\p{Ll}\p{Lu}]/u.test(text.slice(end, end + 3))) continue;
    ends.add(end);
  }
  for (const m of text.matchAll(CJK_END)) ends.add(m.index + m[0].length);
  for (const m of text.matchAll(PARAGRAPH)) ends.add(m.index);
  return [...ends].filter((e) => e > 0 && e < text.length).sort((a, b) => a - b);
}

/** Tag spans, so no cut falls inside one. */
function tagSpans(text: string): [number, number][] {
  return [...text.matchAll(TAG)].map((m) => [m.index, m.index + m[0].length]);
}

/** True when a cut at `i` splits neither a surrogate pair nor a language tag. */
function cuttable(text: string, i: number, tags: [number, number][]): boolean {
  const c = text.charCodeAt(i - 1);
  if (c >= 0xd800 && c <= 0xdbff) return false;
  return !tags.some(([s, e]) => i > s && i < e);
}

/** The last cut at or before `max` after a boundary of one kind (its trailing spaces stay before the cut), or 0. */
function lastCut(text: string, max: number, boundary: RegExp, tags: [number, number][]): number {
  let best = 0;
  for (const m of text.matchAll(boundary)) {
    const end = m.index + m[0].length;
    if (m.index > max) break;
    const at = end <= max ? end : m.index;
    if (at > 0 && cuttable(text, at, tags)) best = at;
  }
  return best;
}

/** Cuts one over-long sentence (`text[from, to)`) into parts of at most `max` characters: clauses, then spaces, then anywhere. */
function cutLong(text: string, from: number, to: number, max: number): [number, number][] {
  const parts: [number, number][] = [];
  let at = from;
  while (to - at > max) {
    const rest = text.slice(at, to);
    const tags = tagSpans(rest);
    let cut = lastCut(rest, max, CLAUSE, tags);
    // A clause cut very early wastes a synthesis; a space nearer the limit is better.
    if (cut < max / 3) cut = Math.max(cut, lastCut(rest, max, SPACE, tags));
    if (cut === 0) {
      cut = max;
      while (cut > 1 && !cuttable(rest, cut, tags)) cut--;
    }
    parts.push(trimmed(text, at, at + cut));
    at += cut;
    while (at < to && /\s/.test(text.charAt(at))) at++;
  }
  if (at < to) parts.push(trimmed(text, at, to));
  return parts.filter(([a, b]) => b > a);
}

/** `[from, to)` without the whitespace at either end. */
function trimmed(text: string, from: number, to: number): [number, number] {
  while (from < to && /\s/.test(text.charAt(from))) from++;
  while (to > from && /\s/.test(text.charAt(to - 1))) to--;
  return [from, to];
}

/**
 * The sentences of a text, each an exact slice (trimmed); a sentence longer than `maxChars` comes
 * as several parts sharing its `sentence` index.
 * @example splitSentences("你好。今天天气很好！Hello there. Bye.").map((s) => s.text) // 你好。 | 今天天气很好！ | Hello there. | Bye.
 */
export function splitSentences(text: string, maxChars = 300): Sentence[] {
  if (maxChars < 8) throw new RangeError("maxChars must be at least 8");
  const out: Sentence[] = [];
  let start = 0;
  let n = 0;
  for (const end of [...sentenceEnds(text), text.length]) {
    const [from, to] = trimmed(text, start, end);
    start = end;
    if (to === from) continue;
    const last = out.at(-1);
    // A sentence of nothing speakable (a lone "…" or "——") joins the one before.
    if (last && !/[\p{L}\p{N}]/u.test(text.slice(from, to)) && to - last.from <= maxChars) {
      last.to = to;
      last.text = text.slice(last.from, to);
      continue;
    }
    for (const [a, b] of to - from > maxChars ? cutLong(text, from, to, maxChars) : [[from, to] as [number, number]]) {
      out.push({ text: text.slice(a, b), sentence: n, from: a, to: b });
    }
    n++;
  }
  return out;
}

/** The language tag in force at the end of `text` (the last `<|xx|>` in it), if any. */
function lastTag(text: string): string | undefined {
  let tag: string | undefined;
  for (const m of text.matchAll(TAG)) if (m[0] !== "<|endofprompt|>") tag = m[0];
  return tag;
}

/**
 * Splits a text into segments of whole sentences, at most `maxChars` each (a longer sentence is
 * cut at clauses). A segment that does not start with a language tag speaks with the one in
 * force before it, so `<|en|>` at the top of a chapter holds for all of it.
 * @example splitIntoSegments("One. Two. Three.", { maxChars: 10 }).map((s) => s.text) // ["One. Two.", "Three."]
 */
export function splitIntoSegments(text: string, opts: SplitOptions = {}): Segment[] {
  const max = opts.maxChars ?? 300;
  const sentences = splitSentences(text, max);
  const segments: Segment[] = [];
  let tag: string | undefined;
  let current: { from: number; to: number; sentences: Sentence[] } | undefined;
  const flush = () => {
    if (!current) return;
    const body = text.slice(current.from, current.to);
    const speak = tag !== undefined && !body.startsWith("<|") ? tag + body : body;
    segments.push({ index: segments.length, text: body, speak, sentences: current.sentences });
    tag = lastTag(speak) ?? tag;
    current = undefined;
  };
  for (const s of sentences) {
    const { from, to } = s;
    if (current && to - current.from > max) flush();
    if (!current) current = { from, to, sentences: [] };
    current.to = to;
    current.sentences.push(s);
  }
  flush();
  return segments;
}
