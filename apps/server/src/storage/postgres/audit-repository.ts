import type { Pool } from 'pg';
import type { AuditEntry, AuditFilter } from '../store.js';
import { statement } from './sql.js';

const insert = statement(
  'audit_insert',
  'INSERT INTO audit_log (at, actor, action, target, room, ip, details) VALUES ($1, $2, $3, $4, $5, $6, $7)',
);
const list = statement<AuditEntry>(
  'audit_list',
  `SELECT id, at, actor, action, target, room, ip, details FROM audit_log
    WHERE id < $1 AND ($2::text IS NULL OR action = $2) AND ($3::text IS NULL OR actor = $3) AND ($4::text IS NULL OR room = $4)
    ORDER BY id DESC LIMIT $5`,
);

export function createAuditRepository(pool: Pool) {
  return {
    async append(entry: Omit<AuditEntry, 'id'>): Promise<void> {
      await insert(pool, [entry.at, entry.actor, entry.action, entry.target, entry.room, entry.ip, JSON.stringify(entry.details)]);
    },
    async list(f: AuditFilter): Promise<AuditEntry[]> {
      const { rows } = await list(pool, [f.before ?? Number.MAX_SAFE_INTEGER, f.action ?? null, f.actor ?? null, f.room ?? null, f.limit]);
      return rows;
    },
  };
}
