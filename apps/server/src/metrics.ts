/**
 * A small Prometheus registry (text exposition format 0.0.4): counters,
 * gauges and histograms with labels. Enough for /metrics without a dependency.
 */
type Labels = Record<string, string>;

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (labels: Labels) => {
  const entries = Object.entries(labels);
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
};

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines.join('\n');
  }
}

/** A gauge read at scrape time. */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
  ) {}
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, `${this.name} ${this.read()}`].join('\n');
  }
}

export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: number[],
  ) {
    this.counts = buckets.map(() => 0);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) this.counts[i]!++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => {
      lines.push(`${this.name}_bucket{le="${b}"} ${this.counts[i]}`);
    });
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return lines.join('\n');
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  add<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }
  render(): string {
    return `${this.metrics.map((m) => m.render()).join('\n')}\n`;
  }
}

/** The server's metrics: what `/metrics` exposes. */
export function createChatMetrics() {
  const registry = new Registry();
  return {
    registry,
    messagesIn: registry.add(new Counter('chat_ws_messages_in_total', 'WebSocket messages received from clients')),
    messagesOut: registry.add(new Counter('chat_ws_messages_out_total', 'WebSocket messages sent to clients')),
    chatMessagesStored: registry.add(new Counter('chat_messages_stored_total', 'Chat messages committed to the database')),
    fanout: registry.add(
      new Histogram('chat_broadcast_fanout', 'Local recipients per broadcast chat message', [1, 2, 5, 10, 50, 100, 500, 1000, 5000]),
    ),
    commitSeconds: registry.add(
      new Histogram('chat_db_commit_seconds', 'Duration of one group commit', [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]),
    ),
    commitBatch: registry.add(new Histogram('chat_db_commit_batch_size', 'Messages per group commit', [1, 2, 5, 10, 50, 100, 512])),
    handshakesRejected: registry.add(new Counter('chat_ws_handshakes_rejected_total', 'Refused WebSocket upgrades by reason')),
    errors: registry.add(new Counter('chat_errors_total', 'Error messages sent to clients by code')),
    closes: registry.add(new Counter('chat_ws_closes_total', 'Closed WebSocket connections by close code')),
  };
}

export type ChatMetrics = ReturnType<typeof createChatMetrics>;
