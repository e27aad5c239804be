/**
 * Scenario 7: full-text search (ours only; the twins store nothing to search).
 * A corpus of `messages` stored messages in `rooms` rooms, written through
 * the server's own SQLite store (its writer thread, its index), of
 * pseudo-words drawn from a Zipf distribution as words of a language are:
 * one very common word, a long tail of rare ones. Then our server answers
 * GET /api/search over HTTP for two users — one in every room, one in 1 % of
 * them (most matches are then in rooms it may not read, and skipped) — each
 * query `queries` times, one at a time; latency is measured at the client.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Histogram } from './lib/histogram.js';
import { CpuMeter } from './lib/proc.js';
import { repoRoot, startServer, tempDatabase, type ServerHandle } from './servers.js';

export interface SearchConfig {
  messages: number;
  rooms: number;
  /** Timed requests per query and user (after a tenth as many untimed). */
  queries: number;
}

/** The server's SQLite store, loaded from its build (the bench has no store of its own, and no types of it). */
interface BenchStore {
  db: { exec(sql: string): void };
  createUser(name: string, hash: string | null, guest: boolean): Promise<{ id: number }>;
  findUserByName(name: string): Promise<{ id: number } | undefined>;
  createRoom(room: { id: string; title: string; topic: string; private: boolean; createdBy: number | null }): Promise<unknown>;
  addMember(room: string, user: number): Promise<void>;
  appendMessages(batch: Array<{ roomId: string; authorId: number; text: string; clientMsgId: string; ts: number }>): Promise<unknown>;
  close(): Promise<void>;
}
export async function openServerStore(file: string): Promise<BenchStore> {
  const module = (await import(pathToFileURL(path.join(repoRoot, 'apps/server/dist/storage/sqlite/sqlite-store.js')).href)) as {
    openSqliteStore(file: string): BenchStore;
  };
  return module.openSqliteStore(file);
}

/** A seeded xorshift: the same corpus every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Pseudo-words of 1–3 syllables, and a sampler of them by Zipf's law (rank r drawn with weight 1/r). */
export function vocabulary(size: number, rnd: () => number): { words: string[]; pick: () => string } {
  const consonants = 'b c d f g h j k l m n p r s t v w z ch sh th st pl tr'.split(' ');
  const vowels = 'a e i o u ai ea ou'.split(' ');
  const of = (list: string[]) => list[Math.floor(rnd() * list.length)]!;
  const set = new Set<string>();
  while (set.size < size) {
    let w = '';
    const syllables = 1 + Math.floor(rnd() * 3);
    for (let i = 0; i < syllables; i++) w += of(consonants) + of(vowels);
    if (rnd() < 0.5) w += of(consonants);
    set.add(w);
  }
  const words = [...set];
  const cumulative = new Float64Array(words.length);
  let total = 0;
  for (let i = 0; i < words.length; i++) cumulative[i] = total += 1 / (i + 1);
  const pick = () => {
    const x = rnd() * total;
    let lo = 0;
    let hi = words.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return words[lo]!;
  };
  return { words, pick };
}

export interface SearchFigure {
  user: string;
  query: string;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  found: number;
  cpuMsPerQuery: number;
}

export async function runSearchBench(
  cfg: SearchConfig,
  log: (line: string) => void,
): Promise<{ figures: SearchFigure[]; seedSeconds: number; seedUsPerMessage: number; fileMiB: number }> {
  const database = tempDatabase();
  let server: ServerHandle | undefined;
  try {
    // The searchers sign in as guests through the API (their sessions are then in the file).
    server = await startServer('ours', { databasePath: database.file });
    const tokens: Record<string, string> = {};
    for (const name of ['everywhere', 'few-rooms']) {
      const res = await fetch(`${server.origin}/api/auth/guest`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: name }),
      });
      if (res.status !== 201) throw new Error(`guest ${name}: ${res.status}`);
      tokens[name] = ((await res.json()) as { token: string }).token;
    }
    await server.stop();
    server = undefined;

    const store = await openServerStore(database.file);
    const rnd = random(0x5eed);
    const { words, pick } = vocabulary(20_000, rnd);
    const author = await store.createUser('author', null, true);
    const everywhere = (await store.findUserByName('everywhere'))!;
    const few = (await store.findUserByName('few-rooms'))!;
    for (let r = 0; r < cfg.rooms; r++) {
      await store.createRoom({ id: `corpus-${r}`, title: `Corpus ${r}`, topic: '', private: false, createdBy: null });
      await store.addMember(`corpus-${r}`, everywhere.id);
      if (r % 100 === 0) await store.addMember(`corpus-${r}`, few.id);
    }
    const t0 = process.hrtime.bigint();
    const BATCH = 2000;
    for (let i = 0; i < cfg.messages; i += BATCH) {
      const batch = [];
      for (let k = i; k < Math.min(cfg.messages, i + BATCH); k++) {
        const n = 8 + Math.floor(rnd() * 9);
        const text: string[] = [];
        for (let j = 0; j < n; j++) text.push(pick());
        batch.push({ roomId: `corpus-${k % cfg.rooms}`, authorId: author.id, text: text.join(' '), clientMsgId: `c${k}`, ts: 1_700_000_000_000 + k });
      }
      await store.appendMessages(batch);
    }
    const seedSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await store.close();
    const { statSync } = await import('node:fs');
    const fileMiB = statSync(database.file).size / 2 ** 20;
    log(`   corpus: ${cfg.messages.toLocaleString('en-US')} messages in ${cfg.rooms} rooms stored in ${seedSeconds.toFixed(1)} s (${((seedSeconds * 1e6) / cfg.messages).toFixed(1)} µs each, text generation included), ${fileMiB.toFixed(0)} MiB`);

    // A common word (rank 1), a rare one (rank 5,000), a 3-letter prefix of a mid-ranked word, and two words together.
    const queries: Array<[string, string]> = [
      ['common word', words[0]!],
      ['rare word', `"${words[5000]!}"`],
      ['prefix (3 letters)', words[60]!.slice(0, 3)],
      ['two words', `${words[0]!} ${words[200]!}`],
    ];
    server = await startServer('ours', { databasePath: database.file });
    const origin = server.origin;
    const cpu = new CpuMeter(() => [server!.pid]);
    const figures: SearchFigure[] = [];
    for (const [user, token] of Object.entries(tokens)) {
      for (const [label, q] of queries) {
        const url = `${origin}/api/search?${new URLSearchParams({ q, limit: '20' })}`;
        const ask = async () => {
          const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
          if (res.status !== 200) throw new Error(`search ${q}: ${res.status} ${await res.text()}`);
          return ((await res.json()) as { results: unknown[] }).results.length;
        };
        const hist = new Histogram();
        const warm = Math.ceil(cfg.queries / 10);
        for (let i = 0; i < warm; i++) await ask();
        let found = 0;
        // CPU over the whole timed loop: /proc counts in 10 ms ticks, far coarser than one query.
        cpu.mark();
        for (let i = 0; i < cfg.queries; i++) {
          const start = process.hrtime.bigint();
          found = await ask();
          hist.recordNs(Number(process.hrtime.bigint() - start));
        }
        const cpuSeconds = cpu.read().cpuSeconds;
        const figure = { user, query: `${label}: ${q}`, p50Ms: hist.quantileMs(0.5), p99Ms: hist.quantileMs(0.99), found, cpuMsPerQuery: (cpuSeconds * 1000) / cfg.queries };
        log(`   ${user.padEnd(10)} ${figure.query.padEnd(34)} p50 ${figure.p50Ms?.toFixed(2)} ms, p99 ${figure.p99Ms?.toFixed(2)} ms, ${found} results, ${figure.cpuMsPerQuery.toFixed(2)} ms CPU`);
        figures.push(figure);
      }
    }
    return { figures, seedSeconds, seedUsPerMessage: (seedSeconds * 1e6) / cfg.messages, fileMiB };
  } finally {
    await server?.stop();
    database.remove();
  }
}

/**
 * Makes a migrated database write no search index, for scenario 5's
 * comparison: the FTS5 table becomes a view whose inserts and deletes do
 * nothing (with a column named as the table, so the server's search
 * statements still prepare; none is run there), and so does its backlog
 * (migration 10): the difference measured is all the index costs a write.
 */
export async function withoutSearchIndex(file: string): Promise<void> {
  const store = await openServerStore(file);
  store.db.exec(`
    DROP TABLE messages_fts;
    CREATE VIEW messages_fts (rowid, words, messages_fts) AS SELECT NULL, NULL, NULL WHERE 0;
    CREATE TRIGGER messages_fts_no_insert INSTEAD OF INSERT ON messages_fts BEGIN SELECT 1; END;
    CREATE TRIGGER messages_fts_no_delete INSTEAD OF DELETE ON messages_fts BEGIN SELECT 1; END;
    DROP TABLE search_backlog;
    CREATE VIEW search_backlog (message_id) AS SELECT NULL WHERE 0;
    CREATE TRIGGER search_backlog_no_insert INSTEAD OF INSERT ON search_backlog BEGIN SELECT 1; END;
    CREATE TRIGGER search_backlog_no_delete INSTEAD OF DELETE ON search_backlog BEGIN SELECT 1; END;
  `);
  await store.close();
}
