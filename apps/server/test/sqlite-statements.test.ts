/**
 * Rules for the SQL of the SQLite store that no behaviour test can see.
 *
 * A bare `LIMIT ?`: SQLite's planner reads the bound value of a LIMIT
 * parameter (to turn it into a constant), and a statement whose plan read a
 * parameter is marked expired each time that parameter is bound again — so
 * every call prepares the statement anew. Results stay right; only the cost
 * changes (a history read of an empty room: 15 µs instead of 4, measured with
 * better-sqlite3 12 / SQLite 3.53). `LIMIT CAST(? AS INTEGER)` is not read by
 * the planner.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const sqliteDir = fileURLToPath(new URL('../src/storage/sqlite/', import.meta.url));

/** Every `LIMIT ?` (any spacing, any case) in the store's sources, as file:line. */
function bareLimitParameters(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const lines = readFileSync(path.join(dir, name), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (/\bLIMIT\s+\?/i.test(line)) found.push(`${name}:${i + 1}`);
    });
  }
  return found;
}

describe('SQL of the SQLite store', () => {
  it('binds no LIMIT as a bare parameter (it would make every call prepare its statement again)', () => {
    expect(bareLimitParameters(sqliteDir)).toEqual([]);
  });

  it('the check finds a bare LIMIT parameter where there is one', () => {
    // The rule above is only worth something if its scan can fail.
    const probe = fileURLToPath(new URL('./fixtures/bare-limit/', import.meta.url));
    expect(bareLimitParameters(probe)).toEqual(['statements.ts:2']);
  });
});
