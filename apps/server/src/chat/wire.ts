import type { ChatMessage } from '@chat/schema';
import type { MessageRecord } from '../storage/store.js';

/** A stored message in the contract's shape. */
export function toChatMessage(m: MessageRecord): ChatMessage {
  const out: ChatMessage = {
    id: m.id,
    seq: m.seq,
    author: m.author,
    text: m.text,
    ts: m.ts,
    clientMsgId: m.clientMsgId,
  };
  if (m.editedAt !== null) out.editedAt = m.editedAt;
  if (m.deletedAt !== null) out.deleted = true;
  return out;
}
