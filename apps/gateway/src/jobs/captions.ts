/**
 * Captions of a narration: one cue per sentence, timed from each segment's real audio length.
 * Within a segment the model does not say where one sentence ends, so its length is shared out
 * by the sentences' weight (spoken characters: a CJK character is about a syllable, a Latin
 * letter about a third of one). A sentence cut across segments (clauses) spans them as one cue.
 * The last cue ends where the audio ends. Pure.
 */

/** One segment as the captions need it: its sentences and the length of its audio. */
export interface TimedSegment {
  sentences: { text: string; sentence: number }[];
  /** @unit milliseconds */
  durationMs: number;
}

/** One caption. */
export interface Cue {
  /** @unit milliseconds */
  startMs: number;
  /** @unit milliseconds */
  endMs: number;
  text: string;
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const TAGS = /<\|[^|<>\s]{1,32}\|>/g;
/** Scripts written with spaces between words: a sentence cut there joins again with one. */
const SPACED = /[\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Hangul}\p{N},;:.!?'"]/u;

/** How long a piece of text takes to say, relatively. */
function weight(text: string): number {
  let w = 0;
  for (const ch of text.replace(TAGS, "")) {
    if (CJK.test(ch)) w += 1;
    else if (/[\p{L}\p{N}]/u.test(ch)) w += 0.35;
    else if (/[,;:，；：、.!?。！？]/u.test(ch)) w += 0.5;
  }
  return Math.max(w, 0.1);
}

/**
 * The cues of a narration.
 * @example cuesOf([{ sentences: [{ text: "Hi.", sentence: 0 }, { text: "Bye.", sentence: 1 }], durationMs: 2000 }])
 */
export function cuesOf(segments: TimedSegment[]): Cue[] {
  const cues: Cue[] = [];
  let at = 0;
  let last: { sentence: number; cue: Cue } | undefined;
  for (const seg of segments) {
    const total = seg.sentences.reduce((sum, s) => sum + weight(s.text), 0);
    const segStart = at;
    let used = 0;
    for (const s of seg.sentences) {
      used += weight(s.text);
      const end = segStart + (seg.durationMs * used) / total;
      if (last && last.sentence === s.sentence) {
        // The next part of a sentence cut at clauses: one cue goes on.
        last.cue.endMs = end;
        last.cue.text += (SPACED.test(last.cue.text.slice(-1)) && SPACED.test(s.text.charAt(0)) ? " " : "") + s.text;
      } else {
        const cue = { startMs: at, endMs: end, text: s.text };
        cues.push(cue);
        last = { sentence: s.sentence, cue };
      }
      at = end;
    }
    at = segStart + seg.durationMs;
  }
  return cues.map((c) => ({ startMs: Math.round(c.startMs), endMs: Math.round(c.endMs), text: c.text.replace(TAGS, "").trim() }));
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** `hh:mm:ss.mmm` (WebVTT) or `hh:mm:ss,mmm` (SRT). */
function timestamp(ms: number, sep: "." | ","): string {
  const t = Math.max(0, Math.round(ms));
  return `${pad(Math.floor(t / 3_600_000))}:${pad(Math.floor(t / 60_000) % 60)}:${pad(Math.floor(t / 1000) % 60)}${sep}${pad(t % 1000, 3)}`;
}

/** Cue text never holds a blank line or `-->` (either would end or break the cue). */
const cueText = (text: string) => text.replace(/\s*\n\s*/g, " ").replace(/-->/g, "→");

/**
 * WebVTT (W3C): a header, then numbered cues.
 * @example toWebVtt([{ startMs: 0, endMs: 1500, text: "Hello." }]) // "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.500\nHello.\n"
 */
export function toWebVtt(cues: Cue[]): string {
  return "WEBVTT\n\n" + cues.map((c, i) => `${i + 1}\n${timestamp(c.startMs, ".")} --> ${timestamp(c.endMs, ".")}\n${cueText(c.text)}\n`).join("\n");
}

/**
 * SubRip: numbered cues with comma milliseconds.
 * @example toSrt([{ startMs: 0, endMs: 1500, text: "Hello." }]) // "1\n00:00:00,000 --> 00:00:01,500\nHello.\n"
 */
export function toSrt(cues: Cue[]): string {
  return cues.map((c, i) => `${i + 1}\n${timestamp(c.startMs, ",")} --> ${timestamp(c.endMs, ",")}\n${cueText(c.text)}\n`).join("\n");
}
