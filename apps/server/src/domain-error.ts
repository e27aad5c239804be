import type { ErrorCode } from '@chat/schema';

/** A request the domain refuses, with the contract's error code. */
export class ChatError extends Error {
  override name = 'ChatError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
