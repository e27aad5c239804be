/**
 * `Sec-WebSocket-Extensions` parsing and formatting (RFC 6455 §9.1):
 *
 *   extension-list = 1#extension
 *   extension      = extension-token *( ";" extension-param )
 *   extension-param = token [ "=" (token | quoted-string) ]
 *
 * Pure: no knowledge of what any extension means.
 */

/** One extension as offered or accepted; a parameter without a value is `true`. */
export interface ExtensionOffer {
  name: string;
  params: Array<[name: string, value: string | true]>;
}

/** RFC 7230 §3.2.6 tchar. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export class ExtensionHeaderError extends Error {
  override name = 'ExtensionHeaderError';
}

/**
 * Parses one or more header values (repeated headers are one list, RFC 7230
 * §3.2.2). Throws `ExtensionHeaderError` on anything malformed.
 */
export function parseExtensionHeader(value: string | string[]): ExtensionOffer[] {
  const text = Array.isArray(value) ? value.join(',') : value;
  const offers: ExtensionOffer[] = [];
  let i = 0;
  const n = text.length;
  const skipSpace = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const readToken = (what: string): string => {
    const start = i;
    while (i < n && !' \t,;="'.includes(text[i]!)) i++;
    const token = text.slice(start, i);
    if (!TOKEN.test(token)) throw new ExtensionHeaderError(`expected a token for ${what} at offset ${start}`);
    return token;
  };
  const readQuoted = (): string => {
    i++; // opening quote
    let out = '';
    while (i < n && text[i] !== '"') {
      if (text[i] === '\\') i++;
      if (i >= n) break;
      out += text[i];
      i++;
    }
    if (i >= n) throw new ExtensionHeaderError('unterminated quoted string');
    i++; // closing quote
    // RFC 6455 §9.1: a quoted value must still be a token once unquoted.
    if (!TOKEN.test(out)) throw new ExtensionHeaderError('a quoted parameter value is not a token');
    return out;
  };

  for (;;) {
    skipSpace();
    // Empty list elements are allowed by the list rule ("a, , b").
    if (i < n && text[i] === ',') {
      i++;
      continue;
    }
    if (i >= n) break;
    const offer: ExtensionOffer = { name: readToken('an extension name'), params: [] };
    skipSpace();
    while (i < n && text[i] === ';') {
      i++;
      skipSpace();
      const name = readToken('a parameter name');
      skipSpace();
      let value: string | true = true;
      if (i < n && text[i] === '=') {
        i++;
        skipSpace();
        value = text[i] === '"' ? readQuoted() : readToken('a parameter value');
        skipSpace();
      }
      offer.params.push([name, value]);
    }
    offers.push(offer);
    skipSpace();
    if (i >= n) break;
    if (text[i] !== ',') throw new ExtensionHeaderError(`unexpected character ${JSON.stringify(text[i])} at offset ${i}`);
    i++;
  }
  if (offers.length === 0) throw new ExtensionHeaderError('the extension list is empty');
  return offers;
}

/** Formats extensions for a `Sec-WebSocket-Extensions` header. */
export function formatExtensionHeader(offers: ExtensionOffer[]): string {
  return offers
    .map((offer) =>
      [offer.name, ...offer.params.map(([name, value]) => (value === true ? name : `${name}=${value}`))].join('; '),
    )
    .join(', ');
}
