import { DomainError } from '../domain-error.js';
import { searchWords, type SearchTerm } from '../storage/store.js';

/** The longest search a user may type, and the most parts it may have. */
export const MAX_QUERY_CHARS = 200;
export const MAX_TERMS = 12;

/**
 * What a user's search means (docs/search.md): every part must match.
 * - a bare word finds the words it begins: `deplo` finds "deployment";
 *   a one-letter word only itself (its prefix would be half the index);
 * - `"in quotes"`: those words one after another, each whole; one quoted
 *   word finds that word only (an unclosed quote runs to the end);
 * - case, accents and the width of characters do not count (searchWords);
 *   punctuation separates words, so `deploy-ment` is `deploy ment`.
 * A search with no letters or digits in it is refused.
 */
export function parseSearchQuery(q: string): SearchTerm[] {
  if (q.length > MAX_QUERY_CHARS) throw new DomainError('invalid_request', `a search is at most ${MAX_QUERY_CHARS} characters`);
  const terms: SearchTerm[] = [];
  const seen = new Set<string>();
  const add = (term: SearchTerm) => {
    const key = `${term.prefix ? '*' : '='}${term.words.join(' ')}`;
    if (seen.has(key)) return;
    seen.add(key);
    terms.push(term);
  };
  for (const [, phrase, bare] of q.matchAll(PARTS)) {
    if (phrase !== undefined) {
      const words = searchWords(phrase);
      if (words.length > 0) add({ words, prefix: false });
    } else {
      for (const word of searchWords(bare!)) add({ words: [word], prefix: word.length > 1 });
    }
  }
  if (terms.length === 0) throw new DomainError('invalid_request', 'the search has no letters or digits to look for');
  if (terms.length > MAX_TERMS) throw new DomainError('invalid_request', `a search has at most ${MAX_TERMS} words or phrases`);
  return terms;
}

/** A quoted phrase (to the next quote, or the end), or a run of anything else but spaces and quotes. */
const PARTS = /"([^"]*)"?|([^\s"]+)/gu;
