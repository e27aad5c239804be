import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ChatService } from '../chat/chat-service.js';
import { InProcessBroker, type Broker } from '../chat/events.js';
import { InProcessPresence, type PresenceRegistry } from '../chat/presence.js';
import { openRedisCluster } from '../cluster/redis-cluster.js';
import { redactUrl } from '../redact-url.js';
import { UserAdministration, type SessionCloser } from '../auth/user-admin.js';
import { createImageProbe } from '../files/image-probe.js';
import { openDirectoryStore } from '../files/directory-store.js';

export interface ChatPluginOptions {
  broker?: Broker;
  presence?: PresenceRegistry;
}

/**
 * The chat domain, with the broker that carries room events and the registry
 * of who is online: in-process (one node), or on Redis when REDIS_URL is set
 * (several nodes), unless they are handed in.
 */
export const chatPlugin = fp(
  async (app: FastifyInstance, options: ChatPluginOptions) => {
    const c = app.config;
    let broker = options.broker;
    let presence = options.presence;
    if (!broker && c.redisUrl) {
      // Connection errors repeat while Redis is away; one line per kind of error a minute is enough.
      const lastLogged = new Map<string, number>();
      const cluster = await openRedisCluster(c.redisUrl, {
        nodeId: c.nodeId,
        presenceTtlMs: c.presenceTtlMs,
        prefix: c.redisPrefix,
        onError: (err) => {
          const now = Date.now();
          if (now - (lastLogged.get(err.message) ?? 0) < 60_000) return;
          lastLogged.set(err.message, now);
          app.log.warn({ err: err.message }, 'redis');
        },
      });
      app.log.info({ redis: redactUrl(c.redisUrl), instance: cluster.instanceId }, 'cluster mode: broker and presence on Redis');
      broker = cluster.broker;
      presence ??= cluster.presence;
    }
    broker ??= new InProcessBroker();
    presence ??= new InProcessPresence();
    const files = await openDirectoryStore(c.uploadDir);
    const chat = new ChatService(app.store, broker, {
        maxMessageBytes: c.maxMessageBytes,
        maxReplayMessages: c.maxReplayMessages,
        maxRoomsPerConnection: c.maxRoomsPerConnection,
        messagesPerSecond: c.rateMessagesPerSecond,
        joinsPerMinute: c.rateJoinsPerMinute,
        searchesPerSecond: c.rateSearchesPerSecond,
        presence,
        files: {
          store: files,
          probe: createImageProbe(files.temporaryPath, c.maxImagePixels),
          limits: {
            maxFileBytes: c.maxUploadBytes,
            maxUserBytes: c.maxUploadBytesPerUser,
            maxPerMessage: c.maxAttachmentsPerMessage,
            maxImagePixels: c.maxImagePixels,
            unattachedTtlMs: c.uploadUnattachedTtlMs,
          },
        },
        // A failure to write the entry is logged: the action is done already.
        audit: (actor, action, ip, facts) =>
          app.auditLog.record(actor, action, ip, facts).catch((err: unknown) => app.log.error({ err, action }, 'could not write the audit log')),
        observer: {
          committed: (seconds, messages) => {
            app.metrics.commitSeconds.observe(seconds);
            app.metrics.commitBatch.observe(messages);
            app.metrics.chatMessagesStored.inc(messages);
          },
          fanout: (recipients) => app.metrics.fanout.observe(recipients),
          error: (code) => app.metrics.errors.inc({ code }),
          background: (what, err) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, `${what} failed`),
        },
    });
    app.decorate('chat', chat);
    app.decorate('rooms', chat.rooms);
    app.decorate('conversations', chat.conversations);
    app.decorate('invitations', chat.invitations);
    app.decorate('broker', broker);
    // Sessions and sockets end on every node through node events (plugins/realtime.ts closes them).
    const closer: SessionCloser = {
      sessions: async (hashes) => {
        for (const session of hashes) await broker.publishNode({ kind: 'session_ended', session });
      },
      user: async (userId) => {
        await broker.publishNode({ kind: 'user_deactivated', userId });
      },
    };
    app.decorate('sessionCloser', closer);
    app.decorate('users', new UserAdministration(app.store, closer));
    app.decorate('presence', presence);
    // The clean-up of files (Attachments.sweep) on every node: each step is idempotent.
    const sweepEvery = Math.min(5 * 60_000, Math.max(250, c.uploadUnattachedTtlMs / 2));
    let sweeping: Promise<unknown> = Promise.resolve();
    const sweeper = setInterval(() => {
      sweeping = chat.attachments
        .sweep(Date.now())
        .then((swept) => {
          if (swept.unattached + swept.temporaries + swept.orphans > 0) app.log.info(swept, 'files swept');
        })
        .catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'file sweep failed'));
    }, sweepEvery);
    sweeper.unref();
    app.addHook('onClose', async () => {
      clearInterval(sweeper);
      await sweeping;
    });
  },
  { name: 'chat', dependencies: ['storage', 'metrics', 'audit'] },
);

declare module 'fastify' {
  interface FastifyInstance {
    broker: Broker;
    presence: PresenceRegistry;
  }
}
