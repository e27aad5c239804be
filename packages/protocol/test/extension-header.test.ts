import { describe, expect, test } from 'vitest';
import { ExtensionHeaderError, formatExtensionHeader, parseExtensionHeader } from '../src/extension-header.js';

describe('parseExtensionHeader', () => {
  test('parses a bare extension', () => {
    expect(parseExtensionHeader('permessage-deflate')).toEqual([{ name: 'permessage-deflate', params: [] }]);
  });

  test('parses parameters with and without values, in order', () => {
    expect(parseExtensionHeader('permessage-deflate; client_max_window_bits; server_max_window_bits=10')).toEqual([
      {
        name: 'permessage-deflate',
        params: [
          ['client_max_window_bits', true],
          ['server_max_window_bits', '10'],
        ],
      },
    ]);
  });

  test('unquotes a quoted value', () => {
    expect(parseExtensionHeader('permessage-deflate; server_max_window_bits="10"')).toEqual([
      { name: 'permessage-deflate', params: [['server_max_window_bits', '10']] },
    ]);
  });

  test('unescapes a backslash in a quoted value', () => {
    expect(parseExtensionHeader('x; a="1\\0"')).toEqual([{ name: 'x', params: [['a', '10']] }]);
  });

  test('parses several offers in one value, keeping their order', () => {
    expect(
      parseExtensionHeader('permessage-deflate; client_no_context_takeover, permessage-deflate, x-webkit-deflate-frame'),
    ).toEqual([
      { name: 'permessage-deflate', params: [['client_no_context_takeover', true]] },
      { name: 'permessage-deflate', params: [] },
      { name: 'x-webkit-deflate-frame', params: [] },
    ]);
  });

  test('treats repeated headers as one list', () => {
    expect(parseExtensionHeader(['a; x=1', 'b'])).toEqual([
      { name: 'a', params: [['x', '1']] },
      { name: 'b', params: [] },
    ]);
  });

  test('allows spaces and tabs around every separator', () => {
    expect(parseExtensionHeader(' a ;\tx = 1 ; y , b ')).toEqual([
      { name: 'a', params: [['x', '1'], ['y', true]] },
      { name: 'b', params: [] },
    ]);
  });

  test('skips empty list elements', () => {
    expect(parseExtensionHeader('a, , b,')).toEqual([
      { name: 'a', params: [] },
      { name: 'b', params: [] },
    ]);
  });

  test.each([
    ['an empty value', ''],
    ['only commas and spaces', ' , ,'],
    ['a parameter without a name', 'a; =1'],
    ['a trailing semicolon', 'a;'],
    ['a missing value after "="', 'a; b='],
    ['two tokens without a separator', 'a b'],
    ['a value followed by junk', 'a; b=c d'],
    ['a quoted extension name', '"a"'],
    ['an unterminated quoted value', 'a; b="10'],
    ['a quoted value that is not a token once unquoted', 'a; b="1 0"'],
    ['an empty quoted value', 'a; b=""'],
    ['a character outside tchar in a name', 'a@b'],
    ['a character outside tchar in a value', 'a; b=c/d'],
    ['a stray equals sign', 'a=b'],
  ])('throws on %s', (_what, value) => {
    expect(() => parseExtensionHeader(value)).toThrow(ExtensionHeaderError);
  });
});

describe('formatExtensionHeader', () => {
  test('formats offers with bare and valued parameters', () => {
    expect(
      formatExtensionHeader([
        { name: 'permessage-deflate', params: [['server_no_context_takeover', true], ['server_max_window_bits', '10']] },
        { name: 'permessage-deflate', params: [] },
      ]),
    ).toBe('permessage-deflate; server_no_context_takeover; server_max_window_bits=10, permessage-deflate');
  });

  test('formats what it parses back to the same offers', () => {
    const value = 'permessage-deflate; client_max_window_bits; server_max_window_bits=12, foo; bar=baz';
    expect(parseExtensionHeader(formatExtensionHeader(parseExtensionHeader(value)))).toEqual(parseExtensionHeader(value));
  });
});
