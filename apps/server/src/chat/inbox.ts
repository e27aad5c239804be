import { ClientMessage } from '@chat/schema';
import { DomainError } from '../domain-error.js';
import type { PeerState, Ref } from './peer-state.js';

/** Client messages waiting behind one still being handled, per connection. */
export const MAX_INBOX = 256;
/** Refusals for rate in a row after which a connection is ended (`abusive`). */
export const MAX_STRIKES = 50;

/** Handles one decoded client message; a promise holds the connection's next message until it settles. */
export type RequestHandler = (state: PeerState, msg: ClientMessage) => Promise<void> | void;

/** The `ref` and `room` of a raw client message, if it has them (for answering one we will not handle). */
function peekRef(text: string): { ref: Ref; room: string | undefined } {
  try {
    const raw = JSON.parse(text) as { ref?: unknown; room?: unknown } | null;
    const ref = typeof raw?.ref === 'string' || typeof raw?.ref === 'number' ? raw.ref : undefined;
    return { ref, room: typeof raw?.room === 'string' ? raw.room : undefined };
  } catch {
    return { ref: undefined, room: undefined };
  }
}

/**
 * A connection's way in: its messages are decoded and validated here, then
 * handled strictly one after another (a join reading history holds the send
 * behind it, so a client sees its answers in the order it asked). What waits
 * is bounded; refusals for rate count as strikes, and a connection that keeps
 * collecting them is ended. Any refusal is answered with the request's `ref`.
 */
export interface InboxOptions {
  /** Default MAX_INBOX. */
  maxWaiting?: number;
  /** Default MAX_STRIKES. */
  maxStrikes?: number;
  /** A request failed with something other than a refusal (the client is told `internal`). */
  unexpected?: (err: unknown) => void;
}

export class Inbox {
  private readonly maxWaiting: number;
  private readonly maxStrikes: number;

  constructor(
    private readonly handle: RequestHandler,
    private readonly options: InboxOptions = {},
  ) {
    this.maxWaiting = options.maxWaiting ?? MAX_INBOX;
    this.maxStrikes = options.maxStrikes ?? MAX_STRIKES;
  }

  receive(state: PeerState, text: string): void {
    if (state.closed) return;
    if (state.processing) {
      state.inbox ??= [];
      if (state.inbox.length >= this.maxWaiting) {
        // Refused unread, but answered with its ref (and room) so the client knows which one.
        const { ref, room } = peekRef(text);
        state.error('rate_limited', 'too many requests in flight', ref, room);
        this.strike(state);
        return;
      }
      state.inbox.push(text);
      return;
    }
    this.process(state, text);
  }

  /** Sustained abuse: every refusal counts, any accepted action forgives (`state.strikes = 0`). */
  strike(state: PeerState): void {
    if (++state.strikes >= this.maxStrikes) {
      state.closed = true;
      state.peer.end('abusive');
    }
  }

  private process(state: PeerState, text: string): void {
    const pending = this.dispatch(state, text);
    if (!pending) return;
    state.processing = true;
    void pending.finally(() => {
      state.processing = false;
      while (state.inbox && state.inbox.length > 0 && !state.processing && !state.closed) {
        this.process(state, state.inbox.shift()!);
      }
    });
  }

  private dispatch(state: PeerState, text: string): Promise<void> | undefined {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      state.error('bad_json', 'the message is not valid JSON');
      return undefined;
    }
    const parsed = ClientMessage.safeParse(raw);
    if (!parsed.success) {
      const rawRef = (raw as { ref?: unknown } | null)?.ref;
      const ref = typeof rawRef === 'string' || typeof rawRef === 'number' ? rawRef : undefined;
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      state.error('invalid_message', `${where}${issue?.message ?? 'invalid message'}`, ref);
      return undefined;
    }
    const msg = parsed.data;
    try {
      const result = this.handle(state, msg);
      return result ? result.catch((err: unknown) => this.fail(state, err, msg.ref, msg.room)) : undefined;
    } catch (err) {
      this.fail(state, err, msg.ref, msg.room);
      return undefined;
    }
  }

  /**
   * A request whose work goes on without holding the connection's next one
   * (its handler returned nothing): its refusal or failure is still answered
   * with its ref.
   */
  detach(state: PeerState, msg: ClientMessage, pending: Promise<void>): void {
    pending.catch((err: unknown) => this.fail(state, err, msg.ref, msg.room));
  }

  private fail(state: PeerState, err: unknown, ref: Ref, room?: string): void {
    if (err instanceof DomainError) {
      state.error(err.code, err.message, ref, room);
      if (err.code === 'rate_limited') this.strike(state);
      return;
    }
    this.options.unexpected?.(err);
    state.error('internal', 'the server could not handle this request', ref, room);
  }
}
