import { DomainError } from '../domain-error.js';
import type { PeerState } from './peer-state.js';
import { KeyedRateLimiter } from './rate-limiter.js';

/**
 * What every write of a message asks first (a send, an edit, a deletion, a reaction):
 * the text fits `MAX_MESSAGE_BYTES`, and a token is left in the connection's
 * and the user's buckets (`RATE_MESSAGES_PER_SECOND`).
 */
export class SendGate {
  private readonly userSends: KeyedRateLimiter;

  constructor(
    private readonly maxMessageBytes: number,
    messagesPerSecond: number,
  ) {
    this.userSends = new KeyedRateLimiter(messagesPerSecond, messagesPerSecond * 2);
  }

  checkText(text: string): void {
    if (Buffer.byteLength(text) > this.maxMessageBytes) {
      throw new DomainError('too_large', `a message is at most ${this.maxMessageBytes} bytes`);
    }
  }

  take(state: PeerState): void {
    const now = Date.now();
    if (!state.sends(now).take(now) || !this.userSends.take(String(state.peer.user.id), now)) {
      throw new DomainError('rate_limited', 'slow down: too many messages');
    }
    state.strikes = 0;
  }

  /** A write over REST: the user's bucket only (there is no connection). */
  takeUser(userId: number): void {
    if (!this.userSends.take(String(userId), Date.now())) throw new DomainError('rate_limited', 'slow down: too many messages');
  }
}
