import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AuditLog, type AuditFacts } from '../audit/audit-log.js';

/** The audit log, for routes: `recordAudit(request, action, facts)` after an action succeeded. */
export const auditPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate('auditLog', new AuditLog(app.store));
  },
  { name: 'audit', dependencies: ['storage'] },
);

/**
 * Records an action done by the request's user (or ADMIN_TOKEN) from the
 * request's address (`request.ip`: the client's, as TRUST_PROXY lets it be
 * read), and logs it. A failure to write the entry is logged, not thrown:
 * the action is done already.
 */
export async function recordAudit(request: FastifyRequest, action: string, facts: AuditFacts): Promise<void> {
  const actor = request.user?.username ?? 'ADMIN_TOKEN';
  // The log lines keep the names they had before the table: `admin action` and `moderation`.
  request.log.info({ audit: true, by: actor, action, ...facts }, facts.admin === true ? 'admin action' : 'moderation');
  try {
    await request.server.auditLog.record(actor, action, request.ip ?? null, facts);
  } catch (err) {
    request.log.error({ err, action }, 'could not write the audit log');
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    auditLog: AuditLog;
  }
}
