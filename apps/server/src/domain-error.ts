import type { ErrorCode } from '@chat/schema';

/**
 * A request the server refuses, with the contract's error code. Shared by
 * every part of the domain (accounts, rooms, chat): each transport maps it to
 * its own form (an HTTP status and `{ error }` body, a WebSocket `error`
 * message), so no domain module depends on another one for its errors.
 */
export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
