/**
 * Cuts a long input into pieces the backend accepts, at the most natural boundary that fits:
 * the end of a sentence, else a clause (comma, semicolon, colon), else a space, else anywhere
 * (CJK text without punctuation has no spaces). Pure; the pieces joined give the text back
 * (up to the whitespace trimmed at the cuts).
 */

/** Where a cut may follow, best first: sentence ends (Latin and CJK), line breaks, clauses, spaces. */
const BOUNDARIES: RegExp[] = [/[.!?。！？…]+["')\]」』”’]*\s+|[。！？]+|\n+/g, /[,;:，；：、]\s*/g, /\s+/g];

/** A letter or digit: a piece without one gives the model nothing to say (see TextSchema). */
const SPEAKABLE = /[\p{L}\p{N}]/u;

/** The last cut position (end index) in `text` at or before `max` for one boundary kind, or 0. */
function lastCut(text: string, max: number, boundary: RegExp): number {
  let best = 0;
  boundary.lastIndex = 0;
  for (let m = boundary.exec(text); m !== null; m = boundary.exec(text)) {
    const end = m.index + m[0].length;
    if (end > max) {
      // A boundary straddling the limit still allows a cut where it starts (its spaces drop).
      if (m.index > 0 && m.index <= max && /^\s/.test(m[0])) best = m.index;
      break;
    }
    best = end;
  }
  return best;
}

/** Not inside a UTF-16 surrogate pair. */
function safeIndex(text: string, i: number): number {
  const c = text.charCodeAt(i - 1);
  return c >= 0xd800 && c <= 0xdbff ? i - 1 : i;
}

/**
 * Splits `text` into pieces of at most `max` characters (UTF-16 code units, as the backend
 * counts), cutting at sentence ends where it can. A piece with nothing speakable (a run of
 * punctuation) is joined to its neighbour rather than sent alone.
 * @example splitText("One. Two. Three.", 10) // ["One. Two.", "Three."]
 */
export function splitText(text: string, max: number): string[] {
  if (max < 2) throw new RangeError("max must be at least 2");
  const pieces: string[] = [];
  let rest = text.trim();
  while (rest.length > max) {
    let cut = 0;
    for (const b of BOUNDARIES) {
      cut = lastCut(rest, max, b);
      // A cut very early (under a quarter of the room) wastes a job; try a finer boundary.
      if (cut >= max / 4) break;
    }
    if (cut === 0) cut = safeIndex(rest, max);
    pieces.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest !== "") pieces.push(rest);
  return mergeUnspeakable(pieces.filter((p) => p !== ""), max);
}

function mergeUnspeakable(pieces: string[], max: number): string[] {
  const out: string[] = [];
  for (const p of pieces) {
    const prev = out.at(-1);
    if (!SPEAKABLE.test(p) && prev !== undefined && prev.length + 1 + p.length <= max) out[out.length - 1] = `${prev} ${p}`;
    else if (prev !== undefined && !SPEAKABLE.test(prev) && prev.length + 1 + p.length <= max) out[out.length - 1] = `${prev} ${p}`;
    else out.push(p);
  }
  // Whatever still has nothing to say (no room to merge it) is dropped: the model would skip it.
  return out.filter((p) => SPEAKABLE.test(p));
}
