/**
 * One `Range: bytes=…` header against a file of `size` bytes (RFC 9110 §14):
 * the span to send, `unsatisfiable` (416), or undefined to send the whole
 * file. Several ranges in one header are answered with the whole file, which
 * §14.2 allows ("a server MAY ignore the Range header"): multipart/byteranges
 * would buy nothing a downloader or a media element asks for.
 */
export type RangeAnswer = { start: number; end: number } | 'unsatisfiable' | undefined;

export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return undefined;
  // RFC 9110 §14.1.2: a range unit other than bytes, or a malformed set, is ignored.
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return undefined;
  if (first === '') {
    // §14.1.2 suffix-range: the last N bytes.
    const n = Number(last);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return undefined;
  // §14.1.2: a first-pos at or beyond the length cannot be satisfied.
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}
