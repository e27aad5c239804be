import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The server's metrics on prom-client: each app has a registry of its own
 * (tests run many apps in one process), and the process metrics
 * prom-client collects (CPU, memory, heap, GC, event-loop lag, handles) live
 * in one registry for the process, merged in at scrape time.
 */

let processRegistry: Registry | undefined;
/** Started once: every call of collectDefaultMetrics starts its own event-loop and GC observers. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * A counter bumped on every WebSocket frame in or out: a plain number on the
 * hot path, handed to prom-client when scraped (a labelled `inc` per frame
 * would cost a label lookup each time).
 */
export class HotCounter {
  private value = 0;
  private reported = 0;
  constructor(registry: Registry, name: string, help: string) {
    const self = this;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.inc(self.value - self.reported);
        self.reported = self.value;
      },
    });
  }
  inc(): void {
    this.value++;
  }
  get total(): number {
    return this.value;
  }
}

/** The server's metrics: what `/metrics` exposes (names unchanged since the hand-written registry). */
export function createChatMetrics() {
  const registry = new Registry();
  const registers = [registry];
  const gauges = new Map<string, () => number>();
  const chatMessagesStored = new Counter({ name: 'chat_messages_stored_total', help: 'Chat messages committed to the database', registers });
  const messagesIn = new HotCounter(registry, 'chat_ws_messages_in_total', 'WebSocket messages received from clients');
  const messagesOut = new HotCounter(registry, 'chat_ws_messages_out_total', 'WebSocket messages sent to clients');
  return {
    /** The figures the admin console shows, from the same counters as /metrics. */
    async snapshot(): Promise<{ connections: number; messagesStored: number; messagesIn: number; messagesOut: number }> {
      return {
        connections: gauges.get('chat_ws_connections')?.() ?? 0,
        messagesStored: (await chatMessagesStored.get()).values[0]?.value ?? 0,
        messagesIn: messagesIn.total,
        messagesOut: messagesOut.total,
      };
    },
    registry,
    /** Both registries' text, in Prometheus' exposition format. */
    render: () => Registry.merge([registry, processMetrics()]).metrics(),
    contentType: registry.contentType,
    /** A gauge read when scraped. */
    gauge(name: string, help: string, read: () => number): void {
      gauges.set(name, read);
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    },
    messagesIn,
    messagesOut,
    chatMessagesStored,
    fanout: new Histogram({
      name: 'chat_broadcast_fanout',
      help: 'Local recipients per broadcast chat message',
      buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000],
      registers,
    }),
    commitSeconds: new Histogram({
      name: 'chat_db_commit_seconds',
      help: 'Duration of one group commit',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    commitBatch: new Histogram({
      name: 'chat_db_commit_batch_size',
      help: 'Messages per group commit',
      buckets: [1, 2, 5, 10, 50, 100, 512],
      registers,
    }),
    handshakesRejected: new Counter({
      name: 'chat_ws_handshakes_rejected_total',
      help: 'Refused WebSocket upgrades by reason',
      labelNames: ['status'],
      registers,
    }),
    errors: new Counter({ name: 'chat_errors_total', help: 'Error messages sent to clients by code', labelNames: ['code'], registers }),
    closes: new Counter({ name: 'chat_ws_closes_total', help: 'Closed WebSocket connections by close code', labelNames: ['code'], registers }),
  };
}

export type ChatMetrics = ReturnType<typeof createChatMetrics>;
