import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { directives, effective, formatNginxConf, NginxConfError, parseNginxConf, seconds } from '../src/nginx-conf.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('parseNginxConf', () => {
  it('reads directives, nested blocks and line numbers, and skips comments', () => {
    const parsed = parseNginxConf(['# top', 'worker_processes 1;', 'http {', '  upstream a { server x:1 max_fails=3; } # after', '}'].join('\n'));
    expect(parsed.map((d) => d.name)).toEqual(['worker_processes', 'http']);
    expect(parsed[0]).toEqual({ name: 'worker_processes', args: ['1'], line: 2 });
    const upstream = parsed[1]!.block![0]!;
    expect(upstream).toMatchObject({ name: 'upstream', args: ['a'], line: 4 });
    expect(upstream.block).toEqual([{ name: 'server', args: ['x:1', 'max_fails=3'], line: 4 }]);
  });

  it('unquotes arguments, keeping the empty string, escapes and ${var} words', () => {
    const [map] = parseNginxConf(`map $a $b { default "x y"; '' ''; "q\\"t" "it's"; }`);
    expect(map!.block!.map((d) => [d.name, ...d.args])).toEqual([
      ['default', 'x y'],
      ['', ''],
      ['q"t', "it's"],
    ]);
    expect(parseNginxConf('return 200 ${host}x;')[0]!.args).toEqual(['200', '${host}x']);
  });

  it('refuses broken input with the line number', () => {
    expect(() => parseNginxConf('http {\n  a 1;\n')).toThrow(/line 1: the block opened here is never closed/);
    expect(() => parseNginxConf('a 1;\n}')).toThrow(/line 2: unexpected "}"/);
    expect(() => parseNginxConf('a 1')).toThrow(/"a" is not ended by ";"/);
    expect(() => parseNginxConf('a "open;\n')).toThrow(NginxConfError);
    expect(() => parseNginxConf('a "b"c;')).toThrow(/after a quoted argument/);
    expect(() => parseNginxConf('http { ; }')).toThrow(/unexpected ";"/);
  });

  it('writes back what it read: deploy/nginx/cluster.conf survives a round trip', () => {
    const original = parseNginxConf(readFileSync(path.join(repo, 'deploy/nginx/cluster.conf'), 'utf8'));
    const strip = (ds: typeof original): unknown => ds.map((d) => ({ name: d.name, args: d.args, block: d.block && strip(d.block) }));
    expect(strip(parseNginxConf(formatNginxConf(original)))).toEqual(strip(original));
    expect(formatNginxConf(parseNginxConf(`m { '' ''; a "x;y"; }`))).toBe(`m {\n    "" "";\n    a "x;y";\n}\n`);
  });
});

describe('effective and seconds', () => {
  it('inherits a repeatable directive only from the innermost level that sets it', () => {
    const [server] = parseNginxConf('server { proxy_set_header Host $http_host; location / { } location /x { proxy_set_header A b; } }');
    const [plain, other] = directives(server!.block!, 'location');
    expect(effective([server!.block!, plain!.block!], 'proxy_set_header').map((d) => d.args[0])).toEqual(['Host']);
    expect(effective([server!.block!, other!.block!], 'proxy_set_header').map((d) => d.args[0])).toEqual(['A']);
    expect(effective([server!.block!], 'nothing')).toEqual([]);
  });

  it('reads nginx times', () => {
    expect(seconds('150s')).toBe(150);
    expect(seconds('2m')).toBe(120);
    expect(seconds('90')).toBe(90);
    expect(seconds('500ms')).toBe(0.5);
    expect(() => seconds('soon')).toThrow(NginxConfError);
  });
});
