/**
 * Moves the search backlog (migration 10) into the FTS5 index: at once when a
 * few hundred messages wait, otherwise a moment after the last commit. It
 * runs on the connection that writes (the writer thread's), between commits,
 * after their answers have gone out, so no ack waits on the index. A failed
 * pass (a full disk) leaves the backlog as it was for the next one.
 */
export interface IndexerSource {
  searchBacklog(): number;
  indexBacklog(max: number): number;
}

/** Messages waiting that start a pass at once: FTS5's cost per commit spread over at least this many. */
export const INDEX_BATCH = 256;
/**
 * The most one pass moves (a bulk of writes, or a backlog left at start-up):
 * a pass holds the writer for about 10 µs a message, and a search reads
 * the backlog message by message, so it must never grow with the writes.
 */
export const INDEX_PASS_MAX = 16_384;
/** How long the backlog may wait after the last commit before it is indexed anyway. */
export const INDEX_IDLE_MS = 100;

export class SearchIndexer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: IndexerSource,
    private readonly failed: (err: unknown) => void = () => {},
  ) {
    // What a previous run left in the backlog.
    this.afterCommit();
  }

  /** After every commit that may have added to the backlog. */
  afterCommit(): void {
    const waiting = this.source.searchBacklog();
    if (waiting >= INDEX_BATCH) this.pass(Math.min(waiting, INDEX_PASS_MAX));
    // The rest (or what a failed pass left) a moment later, when commits have paused.
    if (this.source.searchBacklog() > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, INDEX_IDLE_MS);
      // An idle store must not keep the process alive for its index.
      this.timer.unref();
    }
  }

  /** Indexes the whole backlog now (closing, or commits have paused). */
  flush(): void {
    while (this.source.searchBacklog() > 0) if (this.pass(INDEX_PASS_MAX) === 0) break;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private pass(max: number): number {
    try {
      return this.source.indexBacklog(max);
    } catch (err) {
      this.failed(err);
      return 0;
    }
  }
}
