import { searchWords, type SearchTerm } from '../storage/store.js';

/**
 * The part of a message a search result shows, and where in it the search
 * matched: plain text and offsets (UTF-16 code units, [start, end)), so a
 * client marks the matches with its own elements and never parses markup
 * from the server. Matches are found again here with the words the index
 * used (searchWords), so what is marked is what was found, on either store.
 */
export interface Snippet {
  text: string;
  highlights: Array<[number, number]>;
}

/** The longest snippet, in UTF-16 code units (an ellipsis at a cut end counts too). */
export const SNIPPET_CHARS = 160;

export function snippetOf(text: string, terms: readonly SearchTerm[], width = SNIPPET_CHARS): Snippet {
  const matches = matchRanges(text, terms);
  // Line breaks and tabs read as spaces in a one-line snippet; one unit each, so offsets hold.
  const flat = text.replace(BREAKS, ' ');
  if (flat.length <= width) return { text: flat, highlights: matches };
  const first = matches[0]?.[0] ?? 0;
  let start = Math.max(0, first - Math.floor(width / 3));
  let end = Math.min(flat.length, start + width - 2);
  if (end === flat.length) start = Math.max(0, end - (width - 2));
  start = wordStart(flat, start);
  end = wordEnd(flat, end, start);
  const lead = start > 0 ? '…' : '';
  const tail = end < flat.length ? '…' : '';
  const shift = lead.length - start;
  const highlights: Array<[number, number]> = [];
  for (const [s, e] of matches) {
    if (e <= start || s >= end) continue;
    highlights.push([Math.max(s, start) + shift, Math.min(e, end) + shift]);
  }
  return { text: lead + flat.slice(start, end) + tail, highlights };
}

const BREAKS = /[\r\n\t]/g;
/** A run of letters, digits and their marks: one or more words (searchWords splits it as the index does). */
const RUN = /[\p{L}\p{N}\p{M}]+/gu;

interface Token {
  word: string;
  start: number;
  end: number;
}

/** Where in `text` each term matched, sorted and merged. */
export function matchRanges(text: string, terms: readonly SearchTerm[]): Array<[number, number]> {
  const tokens: Token[] = [];
  for (const run of text.matchAll(RUN)) {
    const start = run.index;
    for (const word of searchWords(run[0])) tokens.push({ word, start, end: start + run[0].length });
  }
  const ranges: Array<[number, number]> = [];
  for (const term of terms) {
    const n = term.words.length;
    for (let i = 0; i + n <= tokens.length; i++) {
      let all = true;
      for (let k = 0; k < n && all; k++) {
        const word = tokens[i + k]!.word;
        all = term.prefix ? word.startsWith(term.words[k]!) : word === term.words[k];
      }
      if (all) ranges.push([tokens[i]!.start, tokens[i + n - 1]!.end]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

/** `at`, or the start of the next word when `at` falls inside one (within a few characters); never inside a surrogate pair. */
function wordStart(text: string, at: number): number {
  if (at === 0) return 0;
  for (let i = at; i < Math.min(text.length, at + 16); i++) if (text[i - 1] === ' ') return i;
  return isLowSurrogate(text, at) ? at + 1 : at;
}

/** `at`, or the end of the previous word when `at` falls inside one; never inside a surrogate pair, never before `min`. */
function wordEnd(text: string, at: number, min: number): number {
  if (at >= text.length) return text.length;
  for (let i = at; i > Math.max(min, at - 16); i--) if (text[i] === ' ') return i;
  return isLowSurrogate(text, at) ? at - 1 : at;
}

const isLowSurrogate = (text: string, i: number) => {
  const c = text.charCodeAt(i);
  return c >= 0xdc00 && c <= 0xdfff;
};
