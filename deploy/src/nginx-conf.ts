/**
 * An nginx configuration parser, enough to check deploy/nginx/cluster.conf
 * and to write a changed copy for a local run: directives, blocks, comments,
 * single- and double-quoted arguments, `${var}` inside a word. Written from
 * nginx's documentation: a directive is words ended by `;` or by a `{ … }`
 * block (the Beginner's Guide), times as on the measurement units page.
 */
export interface Directive {
  name: string;
  /** Arguments with their quotes removed (`''` is the empty string). */
  args: string[];
  /** The block's directives, for `server { … }` and the like. */
  block?: Directive[];
  line: number;
}

export class NginxConfError extends Error {}

type Token = { kind: 'word'; text: string; line: number } | { kind: ';' | '{' | '}'; line: number };

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t' };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (isSpace(c)) {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === ';' || c === '{' || c === '}') {
      tokens.push({ kind: c, line });
      i++;
    } else if (c === '"' || c === "'") {
      const start = line;
      let word = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new NginxConfError(`line ${start}: an argument opened with ${c} is never closed`);
        const d = text[i]!;
        if (d === c) break;
        if (d === '\\' && i + 1 < text.length) {
          const e = text[i + 1]!;
          word += ESCAPES[e] ?? (e === c || e === '\\' ? e : `\\${e}`);
          i += 2;
          continue;
        }
        if (d === '\n') line++;
        word += d;
        i++;
      }
      i++;
      // nginx wants a separator after a closing quote: `"a"b` is an error there too.
      const after = text[i];
      if (after !== undefined && !isSpace(after) && after !== ';' && after !== '{' && after !== '}') {
        throw new NginxConfError(`line ${line}: unexpected "${after}" after a quoted argument`);
      }
      tokens.push({ kind: 'word', text: word, line: start });
    } else {
      let word = '';
      while (i < text.length) {
        const d = text[i]!;
        if (isSpace(d) || d === ';' || d === '}' || (d === '{' && !word.endsWith('$'))) break;
        if (d === '{') {
          // `${name}`: a variable name in braces, part of the word.
          const close = text.indexOf('}', i);
          if (close < 0) throw new NginxConfError(`line ${line}: unterminated \${ in "${word}"`);
          word += text.slice(i, close + 1);
          i = close + 1;
          continue;
        }
        word += d;
        i++;
      }
      tokens.push({ kind: 'word', text: word, line });
    }
  }
  return tokens;
}

/** Parses a whole file (or the contents of one block) into directives. */
export function parseNginxConf(text: string): Directive[] {
  const tokens = tokenize(text);
  let at = 0;
  const parseBlock = (closing: number | undefined): Directive[] => {
    const out: Directive[] = [];
    for (;;) {
      const token = tokens[at];
      if (token === undefined) {
        if (closing !== undefined) throw new NginxConfError(`line ${closing}: the block opened here is never closed`);
        return out;
      }
      if (token.kind === '}') {
        if (closing === undefined) throw new NginxConfError(`line ${token.line}: unexpected "}"`);
        at++;
        return out;
      }
      if (token.kind !== 'word') throw new NginxConfError(`line ${token.line}: unexpected "${token.kind}"`);
      const words: string[] = [];
      while (tokens[at]?.kind === 'word') words.push((tokens[at++] as { text: string }).text);
      const end = tokens[at];
      const [name, ...args] = words as [string, ...string[]];
      if (end === undefined) throw new NginxConfError(`line ${token.line}: "${name}" is not ended by ";" or a block`);
      at++;
      if (end.kind === ';') out.push({ name, args, line: token.line });
      else if (end.kind === '{') out.push({ name, args, block: parseBlock(end.line), line: token.line });
      else throw new NginxConfError(`line ${end.line}: "${name}" is not ended by ";"`);
    }
  };
  return parseBlock(undefined);
}

function quote(arg: string): string {
  if (arg !== '' && !/[\s;{}#"'\\]/.test(arg)) return arg;
  return `"${arg.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Writes directives back as a configuration file (comments are not kept). */
export function formatNginxConf(directives: Directive[], indent = ''): string {
  return directives
    .map((d) => {
      const head = [d.name, ...d.args].map(quote).join(' ');
      if (!d.block) return `${indent}${head};\n`;
      return `${indent}${head} {\n${formatNginxConf(d.block, `${indent}    `)}${indent}}\n`;
    })
    .join('');
}

/** The directives named `name` directly in `block`. */
export function directives(block: Directive[], name: string): Directive[] {
  return block.filter((d) => d.name === name);
}

/**
 * What a location sees of a directive that may repeat (proxy_set_header,
 * proxy_next_upstream…): nginx takes it from the innermost level that sets it
 * at all and inherits nothing from outer levels then.
 *
 * @param levels blocks from the outermost (http) to the innermost (location)
 */
export function effective(levels: Directive[][], name: string): Directive[] {
  for (let i = levels.length - 1; i >= 0; i--) {
    const found = directives(levels[i]!, name);
    if (found.length > 0) return found;
  }
  return [];
}

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** An nginx time (`150s`, `2m`, `500ms`, a bare number of seconds) in seconds. */
export function seconds(value: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value);
  if (!match) throw new NginxConfError(`not a time: ${value}`);
  return Number(match[1]) * UNITS[match[2] ?? 's']!;
}
