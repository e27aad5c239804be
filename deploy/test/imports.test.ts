import { describe, expect, it } from 'vitest';
import { importsOf } from '../src/imports.js';

const FILE = 'apps/server/src/routes/example.ts';
const found = (text: string) => importsOf(FILE, text).map(({ line, specifier, kind, local, target }) => ({ line, specifier, kind, local, target }));

describe('importsOf', () => {
  it('finds every way a module names another, each with its line', () => {
    const text = [
      "import fp from 'fastify-plugin';",
      "import type { ChatStore } from '../storage/store.js';",
      "import { type Broker, InProcessBroker } from '../chat/events.js';",
      "import './side-effect.js';",
      "export { thing } from '../chat/thing.js';",
      "export * from '@chat/schema/extra';",
      "const lazy = await import('node:net');",
      "const native = require('better-sqlite3');",
      "import zlib = require('zlib');",
      "type App = typeof import('fastify');",
      "declare module 'fastify' { interface FastifyInstance { x: number } }",
    ].join('\n');
    expect(found(text)).toEqual([
      { line: 1, specifier: 'fastify-plugin', kind: 'import', local: false, target: 'fastify-plugin' },
      { line: 2, specifier: '../storage/store.js', kind: 'import type', local: true, target: 'apps/server/src/storage/store.ts' },
      { line: 3, specifier: '../chat/events.js', kind: 'import', local: true, target: 'apps/server/src/chat/events.ts' },
      { line: 4, specifier: './side-effect.js', kind: 'import', local: true, target: 'apps/server/src/routes/side-effect.ts' },
      { line: 5, specifier: '../chat/thing.js', kind: 'export from', local: true, target: 'apps/server/src/chat/thing.ts' },
      { line: 6, specifier: '@chat/schema/extra', kind: 'export from', local: false, target: '@chat/schema' },
      { line: 7, specifier: 'node:net', kind: 'dynamic import', local: false, target: 'node:net' },
      { line: 8, specifier: 'better-sqlite3', kind: 'require', local: false, target: 'better-sqlite3' },
      { line: 9, specifier: 'zlib', kind: 'require', local: false, target: 'node:zlib' },
      { line: 10, specifier: 'fastify', kind: 'import() type', local: false, target: 'fastify' },
      { line: 11, specifier: 'fastify', kind: 'declare module', local: false, target: 'fastify' },
    ]);
  });

  it('spans a multi-line import list and reports the line it starts on', () => {
    expect(found("\nimport {\n  a,\n  b,\n} from 'zod';")).toEqual([{ line: 2, specifier: 'zod', kind: 'import', local: false, target: 'zod' }]);
  });

  it('ignores specifiers in comments and strings, and computed ones', () => {
    const text = [
      "// import x from 'fastify';",
      "/* import('pg') */",
      "const s = \"import y from 'ioredis'\";",
      'const name = "pg";',
      'await import(name);',
      'require(name);',
    ].join('\n');
    expect(found(text)).toEqual([]);
  });

  it('reads a type reference directive', () => {
    expect(found('/// <reference types="vite/client" />\nexport {};')).toMatchObject([{ specifier: 'vite/client', kind: 'reference types', target: 'vite' }]);
  });

  it('resolves a path that leaves its package', () => {
    expect(importsOf('apps/web/src/main.ts', "import '../../server/src/chat/access.js';")[0]!.target).toBe('apps/server/src/chat/access.ts');
  });
});
