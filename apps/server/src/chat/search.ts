import type { SearchResponse, SearchResult } from '@chat/schema';
import { DomainError } from '../domain-error.js';
import type { ChatStore } from '../storage/store.js';
import { KeyedRateLimiter } from './rate-limiter.js';
import type { RoomService } from './rooms.js';
import { parseSearchQuery } from './search-query.js';
import { snippetOf } from './search-snippet.js';

export interface SearchRequest {
  q: string;
  room?: string | undefined;
  before?: number | undefined;
  limit: number;
}

/**
 * Full-text search over what a user may read: the rooms they are in and
 * their direct conversations, or one room they may read (a public room they
 * have not joined included). Never a deleted message: the index forgets a
 * message when it is deleted, in the same transaction.
 */
export class MessageSearch {
  private readonly limiter: KeyedRateLimiter;

  /** @param perSecond searches a user may run each second (RATE_SEARCHES_PER_SECOND), after a burst of four seconds' worth: a search costs more than a history page. */
  constructor(
    private readonly store: ChatStore,
    private readonly rooms: RoomService,
    perSecond: number,
  ) {
    this.limiter = new KeyedRateLimiter(perSecond, perSecond * 4);
  }

  async search(asker: { userId: number }, request: SearchRequest): Promise<SearchResponse> {
    const terms = parseSearchQuery(request.q);
    if (!this.limiter.take(String(asker.userId))) throw new DomainError('rate_limited', 'too many searches; wait a moment');
    if (request.room !== undefined) await this.rooms.permitted(asker, request.room, 'read');
    // One more than the page: whether there is a next one.
    const found = await this.store.searchMessages({
      terms,
      scope: request.room !== undefined ? { roomId: request.room } : { userId: asker.userId },
      before: request.before,
      limit: request.limit + 1,
    });
    const page = found.slice(0, request.limit);
    const results = page.map((m): SearchResult => {
      const { text, highlights } = snippetOf(m.text, terms);
      return { room: m.roomId, id: m.id, seq: m.seq, author: m.author, text: m.text, ts: m.ts, snippet: text, highlights };
    });
    return { results, nextBefore: found.length > request.limit ? page[page.length - 1]!.id : null };
  }
}
