import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ModuleImport, scanImports } from '../src/imports.js';

/**
 * The walls between the layers (docs/architecture.md), checked on the real
 * source: every import, `import type` included, of every file under the
 * folders below. Each wall says why it stands; a broken one fails naming the
 * file, the line and the specifier. A wall that no longer fits is changed here
 * and in docs/architecture.md together, with its reason — not worked around.
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ROOTS = ['packages/protocol/src', 'packages/chat-schema/src', 'packages/test-support/src', 'apps/server/src', 'apps/web/src'];
const { files, imports } = scanImports(repo, ROOTS);

type Test = (i: ModuleImport) => boolean;

/** Every repository path a wall names: each must exist, or the wall would guard nothing. */
const named = new Set<string>();

/** A file of this repository at or under one of `paths` (a folder ends with `/`). */
const into = (...paths: string[]): Test => {
  for (const p of paths) named.add(p);
  return (i) => i.local && paths.some((p) => (p.endsWith('/') ? i.target.startsWith(p) : i.target === p));
};
/** A package (`fastify`), or a family of them (`fastify-*`, `@fastify/*`). */
const pkg = (...names: string[]): Test => {
  const matches = names.map((n) => (n.endsWith('*') ? (t: string) => t.startsWith(n.slice(0, -1)) : (t: string) => t === n));
  return (i) => !i.local && !i.target.startsWith('node:') && matches.some((m) => m(i.target));
};
const builtin =
  (...names: string[]): Test =>
  (i) =>
    names.some((n) => i.target === `node:${n}`);
/** A file of this repository outside all of `paths`: an allowlist. */
const outside = (...paths: string[]): Test => {
  const inside = into(...paths);
  return (i) => i.local && !inside(i);
};
const anyBuiltin: Test = (i) => i.target.startsWith('node:');
const anyPackage: Test = (i) => !i.local && !i.target.startsWith('node:');
const any =
  (...tests: Test[]): Test =>
  (i) =>
    tests.some((t) => t(i));

const FASTIFY = pkg('fastify', 'fastify-*', '@fastify/*');
const DATABASES = pkg('better-sqlite3', 'pg');
const PROTOCOL = pkg('@chat/protocol');
const PINO = pkg('pino', 'pino-*');
/** Sockets, files, processes and threads: what a pure layer is handed, never opens. */
const NODE_IO = builtin('net', 'http', 'https', 'http2', 'tls', 'dgram', 'fs', 'fs/promises', 'child_process', 'worker_threads', 'cluster');
const S = 'apps/server/src/';

interface Wall {
  name: string;
  /** The files it binds: folders end with `/`. */
  files: string[];
  /** Files under `files` it does not bind, each with its reason in a comment. */
  except?: string[];
  /** An import that crosses it. */
  forbids: Test;
  why: string;
}

const WALLS: Wall[] = [
  {
    name: 'packages/protocol imports only Node',
    files: ['packages/protocol/src/'],
    forbids: any(anyPackage, outside('packages/protocol/src/')),
    why: 'it is RFC 6455/7692 and nothing else: it knows nothing of chat, Fastify, zod or pino, so it can be fuzzed, benchmarked and run against Autobahn on its own, and its package.json has no runtime dependencies, so any other import would not even be installed with it.',
  },
  {
    name: 'packages/chat-schema imports only zod',
    files: ['packages/chat-schema/src/'],
    forbids: any(
      (i) => anyPackage(i) && i.target !== 'zod',
      anyBuiltin,
      outside('packages/chat-schema/src/'),
    ),
    why: 'the contract is shared by the server and the browser client (which bundles it): it may carry nothing of either side — no Node modules, no Fastify, no @chat/protocol — only zod.',
  },
  {
    name: 'packages never reach into apps',
    files: ['packages/'],
    forbids: any(into('apps/'), pkg('@chat/server', '@chat/web')),
    why: 'packages sit below the apps that use them; test-support knows a server only by its URL.',
  },
  {
    name: 'the web client shares only the contract with the server',
    files: ['apps/web/src/'],
    forbids: any(into('apps/server/'), pkg('@chat/server', '@chat/protocol'), FASTIFY, DATABASES, PINO, pkg('ioredis'), anyBuiltin),
    why: "it runs in a browser, on the browser's own WebSocket: what it has in common with the server is @chat/schema (the v1 contract), nothing of the server's code, of @chat/protocol (Node sockets) or of Node.",
  },
  {
    name: 'the chat domain stands on its own (chat/)',
    files: [`${S}chat/`],
    forbids: any(
      outside(`${S}chat/`, `${S}domain-error.ts`, `${S}storage/store.ts`),
      FASTIFY,
      PROTOCOL,
      DATABASES,
      pkg('ioredis'),
      PINO,
      NODE_IO,
    ),
    why: 'the domain decides every rule for REST and the WebSocket alike; it is handed a store (storage/store.ts, the contract: never an implementation), a broker and presence registry (its own interfaces, events.ts and presence.ts) and peers (peer.ts), so it runs on fakes in a unit test, and no transport (plugins/, routes/, Fastify, @chat/protocol, sockets), no adapter (cluster/, storage/sqlite|postgres) and no configuration (config.ts, metrics.ts: it reports through ChatObserver) can drift into it.',
  },
  {
    name: 'auth is plain TypeScript on the storage contract (auth/)',
    files: [`${S}auth/`],
    forbids: any(
      outside(`${S}auth/`, `${S}domain-error.ts`, `${S}storage/store.ts`),
      FASTIFY,
      PROTOCOL,
      DATABASES,
      pkg('ioredis'),
      NODE_IO,
    ),
    why: 'accounts and sessions are a service handed a store (createAuthService(store, options)); cookies and pre-handlers are its Fastify side, plugins/auth.ts. It knows nothing of rooms (chat/), transports (plugins/, routes/) or storage implementations.',
  },
  {
    name: 'storage is the bottom layer (storage/)',
    files: [`${S}storage/`],
    forbids: any(
      // redact-url.ts: a pure helper, so a PostgreSQL error names its URL without the password.
      outside(`${S}storage/`, `${S}redact-url.ts`),
      FASTIFY,
      PROTOCOL,
      pkg('@chat/schema'),
      pkg('ioredis'),
    ),
    why: 'chat, auth and the plugins depend on the store, so it depends on none of them: a store that imported the domain would tie the contract to its internals and close a cycle. Its records are mapped to the wire contract by chat/wire.ts, so it needs nothing of @chat/schema either.',
  },
  {
    name: 'the SQLite store does not lean on the PostgreSQL one',
    files: [`${S}storage/sqlite/`],
    forbids: any(into(`${S}storage/postgres/`), pkg('pg')),
    why: 'two implementations of one contract (storage/store.ts), checked by one shared test (store-contract.test.ts); what both need lives beside the contract (room-row.ts, message-row.ts).',
  },
  {
    name: 'the PostgreSQL store does not lean on the SQLite one',
    files: [`${S}storage/postgres/`],
    forbids: any(into(`${S}storage/sqlite/`), pkg('better-sqlite3')),
    why: 'two implementations of one contract (storage/store.ts), checked by one shared test (store-contract.test.ts); what both need lives beside the contract (room-row.ts, message-row.ts).',
  },
  {
    name: 'the storage contract and the shared error are leaves',
    files: [`${S}storage/store.ts`, `${S}domain-error.ts`],
    forbids: any((i) => i.local, (i) => !i.local && i.target !== '@chat/schema'),
    why: 'every layer imports them (chat, auth, both stores, the error handler): anything they imported would become everyone’s dependency. domain-error.ts needs only the contract’s ErrorCode.',
  },
  {
    name: 'cluster/ adapts Redis to the domain’s two ports',
    files: [`${S}cluster/`],
    forbids: any(
      // redact-url.ts: a Redis URL in an error, without its password.
      outside(`${S}cluster/`, `${S}chat/events.ts`, `${S}chat/presence.ts`, `${S}redact-url.ts`),
      FASTIFY,
      PROTOCOL,
      DATABASES,
    ),
    why: 'RedisBroker implements Broker (chat/events.ts) and RedisPresence implements PresenceRegistry (chat/presence.ts); they know nothing else of the domain, of storage or of the transport. plugins/chat.ts picks them when REDIS_URL is set.',
  },
  {
    name: 'routes translate HTTP into one domain call (routes/)',
    files: [`${S}routes/`],
    forbids: any(into(`${S}storage/`, `${S}cluster/`, `${S}chat/access.ts`), PROTOCOL, DATABASES, pkg('ioredis')),
    why: 'a route parses, calls one operation (app.rooms, app.auth, app.chat) and maps its result or DomainError to HTTP: it never reads the store (not even its types: what a route returns is the contract), never decides who may do what (the domain asks chat/access.ts), never broadcasts, and has no socket.',
  },
  {
    name: 'only the WebSocket endpoint speaks @chat/protocol',
    files: [S],
    except: [
      `${S}plugins/realtime.ts`,
      // The start-up line names the masking backend (maskBackend, maskFallbackReason); nothing else.
      `${S}server.ts`,
    ],
    forbids: PROTOCOL,
    why: 'one module owns the socket: plugins/realtime.ts checks the upgrade, hands it to @chat/protocol and gives the connection to the domain as a ChatPeer; everything else sees chat messages, never frames.',
  },
  {
    name: 'Fastify stays in the transport',
    files: [S],
    except: [
      // The composition root: builds the Fastify instance and registers the plugins and routes.
      `${S}app.ts`,
      // Declares the decorations (app.store, app.rooms, request.user) on Fastify's types.
      `${S}types.ts`,
      `${S}plugins/`,
      `${S}routes/`,
    ],
    forbids: FASTIFY,
    why: 'Fastify is the HTTP transport: chat, auth, storage, cluster, config and metrics are plain TypeScript, built and tested without a server, and handed what they need.',
  },
];

const binds = (wall: Wall, file: string) => {
  const inside = (p: string) => (p.endsWith('/') ? file.startsWith(p) : file === p);
  return wall.files.some(inside) && !(wall.except ?? []).some(inside);
};

const show = (i: ModuleImport) => `${i.file}:${i.line} ${i.kind} '${i.specifier}'${i.local ? ` (${i.target})` : ''}`;

describe('the import walls', () => {
  it('see the whole tree: every folder scanned, every kind of import found', () => {
    for (const root of ROOTS) expect(files.some((f) => f.startsWith(`${root}/`)), root).toBe(true);
    expect(files.length).toBeGreaterThan(50);
    // The kinds the walls rely on seeing (a scanner that lost one would pass everything).
    const kinds = new Set(imports.map((i) => i.kind));
    for (const kind of ['import', 'import type', 'export from', 'declare module'] as const) expect(kinds, kind).toContain(kind);
  });

  it('name only files and folders that exist', () => {
    const paths = [...named, ...WALLS.flatMap((w) => [...w.files, ...(w.except ?? [])])];
    expect(paths.filter((p) => !existsSync(path.join(repo, p)))).toEqual([]);
  });

  for (const wall of WALLS) {
    it(wall.name, () => {
      const bound = files.filter((f) => binds(wall, f));
      expect(bound.length, `${wall.name}: binds no file`).toBeGreaterThan(0);
      const broken = imports.filter((i) => binds(wall, i.file) && wall.forbids(i)).map(show);
      expect(broken, `${wall.name} — ${wall.why}`).toEqual([]);
    });
  }
});
