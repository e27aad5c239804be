import type { AppendResult, ChatStore, NewMessage } from '../storage/store.js';

type Done = (result: AppendResult | Error) => void;

/**
 * Group commit: sends that arrive in the same event-loop turn are written in
 * one transaction, so a burst pays one commit (one fsync) rather than one per
 * message. Each sender is answered only after the commit that holds its
 * message (ack after commit). Batches are written one at a time, in order.
 */
export class MessageWriter {
  private batch: Array<{ message: NewMessage; done: Done }> = [];
  private scheduled = false;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly store: ChatStore,
    /** Told how long each commit took and how many messages it held (metrics). */
    private readonly onCommit: (seconds: number, size: number) => void = () => {},
    private readonly maxBatch = 512,
  ) {}

  write(message: NewMessage, done: Done): void {
    this.batch.push({ message, done });
    if (!this.scheduled && !this.writing) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Resolves once everything written so far is committed (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.writing || this.batch.length > 0) {
      if (this.writing) await this.writing;
      else await this.flushNow();
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    void this.flushNow();
  };

  private flushNow(): Promise<void> {
    if (this.writing || this.batch.length === 0) return this.writing ?? Promise.resolve();
    const batch = this.batch.splice(0, this.maxBatch);
    this.writing = (async () => {
      let results: AppendResult[] | Error;
      const started = process.hrtime.bigint();
      try {
        results = await this.store.appendMessages(batch.map((b) => b.message));
        this.onCommit(Number(process.hrtime.bigint() - started) / 1e9, batch.length);
      } catch (err) {
        results = err instanceof Error ? err : new Error(String(err));
      }
      for (let i = 0; i < batch.length; i++) {
        try {
          batch[i]!.done(results instanceof Error ? results : results[i]!);
        } catch {
          // A callback that throws must not keep the rest of the batch from its answer.
        }
      }
    })().finally(() => {
      this.writing = undefined;
      if (this.batch.length > 0 && !this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
    });
    return this.writing;
  }
}
