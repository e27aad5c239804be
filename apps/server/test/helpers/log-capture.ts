import { EventEmitter } from 'node:events';

/**
 * A pino destination that keeps every line, for `logger: { stream }`: tests
 * read what the server logged and wait for a line instead of sleeping.
 */
export class LogCapture extends EventEmitter {
  readonly lines: string[] = [];

  write(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (line === '') continue;
      this.lines.push(line);
      this.emit('line', line);
    }
  }

  /** Parsed entries. */
  entries(): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Resolves with the first entry matching `match` (already logged or still to come). */
  waitFor(match: (entry: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const found = this.entries().find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const onLine = (line: string) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (!match(entry)) return;
        clearTimeout(timer);
        this.off('line', onLine);
        resolve(entry);
      };
      const timer = setTimeout(() => {
        this.off('line', onLine);
        reject(new Error(`no matching log line within ${timeoutMs} ms; logged:\n${this.lines.join('\n')}`));
      }, timeoutMs);
      this.on('line', onLine);
    });
  }
}
