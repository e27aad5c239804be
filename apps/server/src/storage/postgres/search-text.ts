import { searchWords, type SearchTerm } from '../store.js';

/**
 * Full-text search in PostgreSQL: each message's words (searchWords, as in
 * SQLite) in a tsvector column with a GIN index (migration 8). The vector is
 * written as a tsvector literal rather than through to_tsvector: no parser,
 * dictionary or locale of the database decides what a word is, so a message
 * is found here exactly when SQLite finds it.
 */

/** The tsvector literal of a text: each word with its positions, `'deploy':1,4 'the':2`. Words hold letters and digits only: no quoting to escape. */
export function searchVector(text: string): string {
  const positions = new Map<string, number[]>();
  const words = searchWords(text);
  for (let i = 0; i < words.length; i++) {
    const at = positions.get(words[i]!);
    // PostgreSQL keeps positions up to 16383 (larger ones become 16383) and at most 256 per word.
    if (at === undefined) positions.set(words[i]!, [i + 1]);
    else if (at.length < 256) at.push(i + 1);
  }
  let vector = '';
  for (const [word, at] of positions) vector += `${vector ? ' ' : ''}'${word}':${at.join(',')}`;
  return vector;
}

/** The tsquery literal of the terms: `'deplo':* & 'the' <-> 'app'`. */
export function searchQuery(terms: readonly SearchTerm[]): string {
  return terms
    .map((t) => (t.prefix ? `'${t.words[0]}':*` : `(${t.words.map((w) => `'${w}'`).join(' <-> ')})`))
    .join(' & ');
}
