import type { AppendResult, ChatStore, NewMessage } from '../storage/store.js';

type Done = (result: AppendResult | Error) => void;

/** Batches handed to an in-order store and not yet answered; past this they wait here (a stalled disk). */
const MAX_IN_ORDER_BATCHES = 64;

/**
 * Group commit: sends that arrive in the same event-loop turn are written in
 * one transaction, so a burst pays one commit (one fsync) rather than one per
 * message. Each sender is answered only after the commit that holds its
 * message (ack after commit).
 *
 * Batches are handed over in order. A store whose appends are committed in
 * call order (`appendsInOrder`: SQLite's writer thread) gets each turn's batch
 * at once, even while it is still committing earlier ones: it commits all
 * that queued up meanwhile in one transaction, so its commits grow with the
 * load instead of being cut at what one turn collected (measured: 260
 * messages per commit with two batches in flight, a third of the in-flight
 * window each). Any other store gets one batch at a time, because two
 * concurrent transactions could commit a sender's later message first.
 */
export class MessageWriter {
  private batch: Array<{ message: NewMessage; done: Done }> = [];
  private scheduled = false;
  private readonly writing = new Set<Promise<void>>();
  private readonly maxInFlight: number;

  constructor(
    private readonly store: ChatStore,
    /** Told how long each commit took and how many messages it held (metrics). */
    private readonly onCommit: (seconds: number, size: number) => void = () => {},
    private readonly maxBatch = 512,
  ) {
    this.maxInFlight = store.appendsInOrder ? MAX_IN_ORDER_BATCHES : 1;
  }

  write(message: NewMessage, done: Done): void {
    this.batch.push({ message, done });
    this.schedule();
  }

  /** Resolves once everything written so far is committed (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.writing.size > 0 || this.batch.length > 0) {
      if (this.batch.length > 0 && this.writing.size < this.maxInFlight) this.flushNow();
      else await Promise.race(this.writing);
    }
  }

  private schedule(): void {
    if (!this.scheduled && this.writing.size < this.maxInFlight && this.batch.length > 0) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    this.flushNow();
  };

  private flushNow(): void {
    if (this.writing.size >= this.maxInFlight || this.batch.length === 0) return;
    const batch = this.batch.splice(0, this.maxBatch);
    const writing: Promise<void> = (async () => {
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
      this.writing.delete(writing);
      this.schedule();
    });
    this.writing.add(writing);
  }
}
