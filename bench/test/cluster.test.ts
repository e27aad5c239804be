import { describe, expect, it } from 'vitest';
import { benchDatabaseName, benchRedisPrefix, membersByNode, nodeOf, postgresPids, redactUrl, withDatabase } from '../src/cluster.js';

describe('nodeOf', () => {
  it('puts member k on node k mod N, so the sender (member 0) is on the first node', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((k) => nodeOf(k, 3))).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect([0, 1, 2].map((k) => nodeOf(k, 1))).toEqual([0, 0, 0]);
  });

  it('refuses a cluster of no nodes', () => {
    expect(() => nodeOf(0, 0)).toThrow(RangeError);
    expect(() => nodeOf(0, 1.5)).toThrow(RangeError);
  });
});

describe('membersByNode', () => {
  it('spreads members round-robin, every member on exactly one node', () => {
    expect(membersByNode(7, 3)).toEqual([
      [0, 3, 6],
      [1, 4],
      [2, 5],
    ]);
    const groups = membersByNode(1000, 3);
    expect(groups.map((g) => g.length)).toEqual([334, 333, 333]);
    expect(groups.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, k) => k));
  });

  it('leaves a node empty when there are fewer members than nodes', () => {
    expect(membersByNode(2, 3)).toEqual([[0], [1], []]);
  });
});

describe('benchDatabaseName', () => {
  it('prefixes the tag with chat_bench_', () => {
    expect(benchDatabaseName('b1x2y3')).toBe('chat_bench_b1x2y3');
  });

  it('refuses tags that would need quoting or change case in SQL', () => {
    expect(() => benchDatabaseName('x; DROP DATABASE test')).toThrow();
    expect(() => benchDatabaseName('Upper')).toThrow();
    expect(() => benchDatabaseName('')).toThrow();
    expect(() => benchDatabaseName('a'.repeat(60))).toThrow(); // over PostgreSQL's 63 bytes
  });
});

describe('benchRedisPrefix', () => {
  it("gives a prefix that matches the server's REDIS_PREFIX rule", () => {
    const prefix = benchRedisPrefix('b1x2y3');
    expect(prefix).toBe('bench-b1x2y3:');
    expect(prefix).toMatch(/^[A-Za-z0-9:._-]{1,64}$/);
  });
});

describe('withDatabase', () => {
  it('swaps the database and keeps user, password, host, port and parameters', () => {
    expect(withDatabase('postgres://postgres@127.0.0.1:5432/test', 'chat_bench_b1')).toBe('postgres://postgres@127.0.0.1:5432/chat_bench_b1');
    expect(withDatabase('postgresql://u:p%40ss@db.example:6543/app?sslmode=require', 'chat_bench_b1')).toBe(
      'postgresql://u:p%40ss@db.example:6543/chat_bench_b1?sslmode=require',
    );
  });

  it('adds the database when the URL names none', () => {
    expect(withDatabase('postgres://postgres@127.0.0.1', 'chat_bench_b1')).toBe('postgres://postgres@127.0.0.1/chat_bench_b1');
  });
});

describe('redactUrl', () => {
  it('masks the password and nothing else', () => {
    expect(redactUrl('redis://:secret@127.0.0.1:6379')).toBe('redis://:***@127.0.0.1:6379');
    expect(redactUrl('postgres://postgres@127.0.0.1:5432/test')).toBe('postgres://postgres@127.0.0.1:5432/test');
  });
});

describe('postgresPids', () => {
  const pgrep = [
    '2190 /usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main -c config_file=/etc/postgresql/15/main/postgresql.conf',
    '2191 postgres: 15/main: checkpointer ',
    '2192 postgres: 15/main: background writer ',
    '2194 postgres: 15/main: walwriter ',
    '3001 postgres: 15/main: postgres chat_bench_b1 127.0.0.1(40112) idle',
    '3002 postgres: 15/main: postgres chat_bench_b1 127.0.0.1(40114) INSERT',
    '3003 postgres: 15/main: postgres test 127.0.0.1(40200) idle',
    '3004 postgres: 15/main: postgres chat_bench_b12 [local] idle',
    '',
  ].join('\n');

  it("keeps the server's own processes and the backends of our database", () => {
    expect(postgresPids(pgrep, 'chat_bench_b1')).toEqual([2190, 2191, 2192, 2194, 3001, 3002]);
  });

  it('matches the database name whole, not as a prefix', () => {
    expect(postgresPids(pgrep, 'chat_bench_b12')).toEqual([2190, 2191, 2192, 2194, 3004]);
  });

  it('finds nothing in empty output', () => {
    expect(postgresPids('', 'chat_bench_b1')).toEqual([]);
  });
});
