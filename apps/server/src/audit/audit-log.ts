import { DomainError } from '../domain-error.js';
import type { AuditEntry, AuditFilter, ChatStore } from '../storage/store.js';

/** What an action tells the audit log besides who and when. */
export interface AuditFacts {
  target?: string | undefined;
  room?: string | undefined;
  [detail: string]: unknown;
}

/**
 * The audit log: every admin and moderator action done over REST, kept in
 * the database (who, what, to whom, in which room, when, from which
 * address) and read back newest first, with filters. An entry names its
 * actor and target by name, not by reference: it outlives them.
 */
export class AuditLog {
  constructor(private readonly store: ChatStore) {}

  async record(actor: string, action: string, ip: string | null, facts: AuditFacts): Promise<void> {
    const { target, room, ...details } = facts;
    await this.store.appendAudit({ at: Date.now(), actor, action, target: target ?? null, room: room ?? null, ip, details });
  }

  list(filter: AuditFilter): Promise<AuditEntry[]> | AuditEntry[] {
    if (filter.limit > 200) throw new DomainError('invalid_request', 'at most 200 entries a page');
    return this.store.listAudit(filter);
  }
}
