/**
 * The payload of one message as its frames arrive, costing what it holds.
 *
 * A message in one piece is kept as that piece: a view into the read it came
 * in, never copied (the fast path for single-frame messages). From the second
 * piece on, and whenever the message outlasts its frame (it is fragmented),
 * its bytes are copied into one buffer of its own that grows by doubling up
 * to `maxPayload`. A partial message therefore holds at most about twice its
 * bytes and never more than `maxPayload` — not a Buffer object per fragment
 * and not the 64 KiB reads its 1-byte fragments were views into (issue #24.7:
 * eight unfinished messages of 1-byte fragments held 121 MB that way).
 */
export class MessageAssembly {
  /** The only piece so far, uncopied (a view into a read). */
  private view: Buffer | undefined;
  /** Owned storage once the message has more than one piece or spans frames. */
  private storage: Buffer | undefined;
  private length = 0;

  constructor(private readonly maxPayload: number) {}

  /** Bytes of payload assembled so far. */
  get byteLength(): number {
    return this.length;
  }

  /** Bytes this message keeps allocated for itself (0 while it is one uncopied view). */
  get retainedBytes(): number {
    return this.storage?.length ?? 0;
  }

  append(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.storage === undefined) {
      if (this.view === undefined) {
        this.view = piece;
        this.length = piece.length;
        return;
      }
      this.own(this.length + piece.length);
    }
    this.ensure(this.length + piece.length);
    piece.copy(this.storage!, this.length);
    this.length += piece.length;
  }

  /**
   * The frame ended without FIN: the message waits for more frames, so it stops
   * holding a view into a read that would otherwise stay alive with it.
   */
  detach(): void {
    if (this.view !== undefined) this.own(this.length);
  }

  /** The whole message; resets for the next one. */
  take(): Buffer {
    const view = this.view;
    const storage = this.storage;
    const length = this.length;
    this.view = undefined;
    this.storage = undefined;
    this.length = 0;
    if (storage !== undefined) return length === storage.length ? storage : storage.subarray(0, length);
    return view ?? EMPTY;
  }

  /** Copies the single view into owned storage of at least `capacity` bytes. */
  private own(capacity: number): void {
    const view = this.view!;
    this.view = undefined;
    this.storage = Buffer.allocUnsafe(this.grownCapacity(0, capacity));
    view.copy(this.storage, 0);
  }

  private ensure(needed: number): void {
    const storage = this.storage!;
    if (needed <= storage.length) return;
    const grown = Buffer.allocUnsafe(this.grownCapacity(storage.length, needed));
    storage.copy(grown, 0, 0, this.length);
    this.storage = grown;
  }

  /** Doubling keeps appends linear overall; `maxPayload` caps what a peer can make us reserve. */
  private grownCapacity(current: number, needed: number): number {
    return Math.max(needed, Math.min(this.maxPayload, Math.max(current * 2, MIN_CAPACITY)));
  }
}

/** The smallest owned buffer: tiny fragments should not reallocate at every byte. */
const MIN_CAPACITY = 256;

const EMPTY = Buffer.alloc(0);
