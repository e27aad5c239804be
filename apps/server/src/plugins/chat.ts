import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ChatService } from '../chat/chat-service.js';
import { InProcessBroker, type Broker } from '../chat/events.js';

/** The chat domain, with the broker that carries room events (in-process unless one is handed in). */
export const chatPlugin = fp(
  async (app: FastifyInstance, options: { broker?: Broker }) => {
    const broker = options.broker ?? new InProcessBroker();
    const c = app.config;
    app.decorate(
      'chat',
      new ChatService(app.store, broker, {
        maxMessageBytes: c.maxMessageBytes,
        maxReplayMessages: c.maxReplayMessages,
        maxRoomsPerConnection: c.maxRoomsPerConnection,
        messagesPerSecond: c.rateMessagesPerSecond,
        joinsPerMinute: c.rateJoinsPerMinute,
        observer: {
          committed: (seconds, messages) => {
            app.metrics.commitSeconds.observe(seconds);
            app.metrics.commitBatch.observe(messages);
            app.metrics.chatMessagesStored.inc({}, messages);
          },
          fanout: (recipients) => app.metrics.fanout.observe(recipients),
          error: (code) => app.metrics.errors.inc({ code }),
        },
      }),
    );
    app.decorate('broker', broker);
  },
  { name: 'chat', dependencies: ['storage', 'metrics'] },
);

declare module 'fastify' {
  interface FastifyInstance {
    broker: Broker;
  }
}
