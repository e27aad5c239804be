/**
 * When to hold a connection's writes until the end of the event-loop turn.
 *
 * Holding (corking) them turns a burst — a group commit's messages to one
 * room, replies to pipelined requests — into one write system call per
 * connection instead of one per message: that is most of why the fan-out
 * benchmark delivers 2.2× `ws`'s rate. But held writes leave only once the
 * whole turn's work is done: a single message to a thousand members waited
 * for the loop over all thousand before the first byte left, about a
 * millisecond, and its members' p50/p99 trailed `ws` at 50 msgs/s.
 *
 * So each connection remembers whether its last busy turn had more than one
 * write. If it did, this turn is corked from the first write (a burst is
 * under way); if not, the first write goes out at once and the connection is
 * corked only if a second one follows in the same turn. A steady trickle is
 * written immediately; a steady burst costs one system call per turn, as
 * before; the turn in which a trickle becomes a burst costs two.
 */

/** A connection whose writes can be held and released (a socket, a WebSocket connection). */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/** Counts event-loop turns: it moves on when the connections written to in a turn are released. */
let turn = 0;
/** Connections written to in this turn, released together by one microtask. */
const written: TurnCorking[] = [];

function endTurn(): void {
  turn++;
  for (const c of written.splice(0)) {
    try {
      c.endTurn();
    } catch {
      // One broken socket must not leave the others corked.
    }
  }
}

/**
 * The policy's state for one connection. Subclassed (by the WebSocket peer)
 * rather than held, so an idle connection pays no object of its own for it.
 */
export abstract class TurnCorking {
  private turnSeen = -1;
  private writesThisTurn = 0;
  private corked = false;
  /** The connection's last turn with writes had more than one. */
  private bursting = false;

  protected abstract corkable(): Corkable;

  /** Call before each write to the connection. */
  protected beforeWrite(): void {
    if (this.turnSeen !== turn) {
      this.turnSeen = turn;
      this.writesThisTurn = 1;
      if (written.push(this) === 1) queueMicrotask(endTurn);
      if (this.bursting) this.hold();
      return;
    }
    this.writesThisTurn++;
    if (!this.corked) this.hold();
  }

  /** Whether writes are held until the end of this turn. */
  get isHolding(): boolean {
    return this.corked;
  }

  /** @internal Run by the end-of-turn microtask. */
  endTurn(): void {
    this.bursting = this.writesThisTurn > 1;
    if (this.corked) {
      this.corked = false;
      this.corkable().uncork();
    }
  }

  private hold(): void {
    this.corked = true;
    this.corkable().cork();
  }
}
