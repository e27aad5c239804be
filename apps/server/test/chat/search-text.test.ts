import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain-error.js';
import { MAX_QUERY_CHARS, MAX_TERMS, parseSearchQuery } from '../../src/chat/search-query.js';
import { matchRanges, SNIPPET_CHARS, snippetOf } from '../../src/chat/search-snippet.js';
import { searchQuery, searchVector } from '../../src/storage/postgres/search-text.js';
import { ftsQuery } from '../../src/storage/sqlite/search-repository.js';
import { searchWords } from '../../src/storage/store.js';

describe('searchWords', () => {
  it('folds case, accents, width and ligatures, and splits on everything but letters and digits', () => {
    expect(searchWords('The Café — naïve, DEPLOY-ment v2.1')).toEqual(['the', 'cafe', 'naive', 'deploy', 'ment', 'v2', '1']);
    expect(searchWords('ＦＵＬＬ ﬁne Straße ΣΊΣΥΦΟΣ')).toEqual(['full', 'fine', 'strasse', 'σισυφοσ']);
    expect(searchWords('日本語のテキスト 中文')).toEqual(['日本語のテキスト', '中文']);
    expect(searchWords('!!! ... 🙂')).toEqual([]);
    expect(searchWords('x'.repeat(1000))[0]).toHaveLength(256);
  });
});

describe('parseSearchQuery', () => {
  const parse = (q: string) => parseSearchQuery(q);
  it('makes bare words prefixes, quoted ones whole, and drops repeats', () => {
    expect(parse('deplo App')).toEqual([
      { words: ['deplo'], prefix: true },
      { words: ['app'], prefix: true },
    ]);
    expect(parse('"the app" "deploy" a deplo deplo')).toEqual([
      { words: ['the', 'app'], prefix: false },
      { words: ['deploy'], prefix: false },
      { words: ['a'], prefix: false },
      { words: ['deplo'], prefix: true },
    ]);
    // An unclosed quote runs to the end; punctuation splits a bare word.
    expect(parse('x-ray "the end')).toEqual([
      { words: ['x'], prefix: false },
      { words: ['ray'], prefix: true },
      { words: ['the', 'end'], prefix: false },
    ]);
  });

  it('refuses a search with nothing to find, too long or with too many parts', () => {
    for (const q of ['', '   ', '""', '!!! ?', '🙂']) expect(() => parse(q)).toThrow(DomainError);
    expect(() => parse('a'.repeat(MAX_QUERY_CHARS + 1))).toThrow(/at most 200 characters/);
    const many = Array.from({ length: MAX_TERMS + 1 }, (_, i) => `w${i}`).join(' ');
    expect(() => parse(many)).toThrow(/at most 12/);
  });

  it('gives each store a query its syntax cannot be escaped out of', () => {
    const terms = parse('deplo "the app" 日本');
    expect(ftsQuery(terms)).toBe('"deplo"* "the app" "日本"*');
    expect(searchQuery(terms)).toBe("'deplo':* & ('the' <-> 'app') & '日本':*");
    // Quotes, operators and backslashes are never words.
    const hostile = parse(`"a" OR b') & !c:* \\ NEAR(d)`);
    for (const t of hostile) for (const w of t.words) expect(w).toMatch(/^[\p{L}\p{N}]+$/u);
  });
});

describe('searchVector', () => {
  it('lists each word once with its positions', () => {
    expect(searchVector('Deploy the app, deploy!')).toBe("'deploy':1,4 'the':2 'app':3");
    expect(searchVector('')).toBe('');
  });
});

describe('snippets', () => {
  it('marks what matched, as offsets into plain text', () => {
    const terms = parseSearchQuery('deplo "the app"');
    const text = 'We <b>DEPLOYED</b> the app today';
    const { text: snippet, highlights } = snippetOf(text, terms);
    expect(snippet).toBe(text);
    expect(highlights.map(([s, e]) => snippet.slice(s, e))).toEqual(['DEPLOYED', 'the app']);
    expect(matchRanges('Café CAFE cafés', parseSearchQuery('"cafe"')).map(([s, e]) => 'Café CAFE cafés'.slice(s, e))).toEqual(['Café', 'CAFE']);
  });

  it('cuts a long message around the first match, at word ends, with ellipses', () => {
    const words = Array.from({ length: 100 }, (_, i) => `word${i}`);
    words[60] = 'needle';
    const text = words.join(' ');
    const { text: snippet, highlights } = snippetOf(text, parseSearchQuery('needle'));
    expect(snippet.length).toBeLessThanOrEqual(SNIPPET_CHARS);
    expect(snippet.startsWith('…word')).toBe(true);
    expect(snippet.endsWith('…')).toBe(true);
    expect(highlights).toHaveLength(1);
    expect(snippet.slice(...highlights[0]!)).toBe('needle');
    // Lines become spaces; no surrogate pair is cut.
    const emoji = `${'🙂'.repeat(200)} needle\nend`;
    const cut = snippetOf(emoji, parseSearchQuery('needle'));
    expect(cut.text).not.toMatch(/\n/);
    expect(cut.text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(cut.text.slice(...cut.highlights[0]!)).toBe('needle');
  });
});
