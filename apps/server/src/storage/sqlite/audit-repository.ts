import type { Database } from 'better-sqlite3';
import type { AuditEntry, AuditFilter } from '../store.js';

/** SQLite keeps `details` as JSON text. */
type AuditRow = Omit<AuditEntry, 'details'> & { details: string };

export function createAuditRepository(db: Database) {
  const insert = db.prepare<[number, string, string, string | null, string | null, string | null, string]>(
    'INSERT INTO audit_log (at, actor, action, target, room, ip, details) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  // Each filter is "this value, or any" (NULL): one statement, planned once.
  const list = db.prepare<[number, string | null, string | null, string | null, string | null, string | null, string | null, number], AuditRow>(
    `SELECT id, at, actor, action, target, room, ip, details FROM audit_log
      WHERE id < ? AND (? IS NULL OR action = ?) AND (? IS NULL OR actor = ?) AND (? IS NULL OR room = ?)
      ORDER BY id DESC LIMIT CAST(? AS INTEGER)`,
  );
  return {
    append(entry: Omit<AuditEntry, 'id'>): void {
      insert.run(entry.at, entry.actor, entry.action, entry.target, entry.room, entry.ip, JSON.stringify(entry.details));
    },
    list(f: AuditFilter): AuditEntry[] {
      const action = f.action ?? null;
      const actor = f.actor ?? null;
      const room = f.room ?? null;
      return list
        .all(f.before ?? Number.MAX_SAFE_INTEGER, action, action, actor, actor, room, room, f.limit)
        .map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
    },
  };
}
