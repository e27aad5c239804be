/**
 * A new `clientMsgId`: the time first (12 hex digits of milliseconds), then
 * 80 random bits, 32 hex digits in all. Ids sort in the order they were made,
 * so the server's re-send index (ordered by the id) takes each at its end
 * rather than on a page of its own (docs/protocol.md, "Idempotent send").
 * getRandomValues works on plain http:// too (randomUUID needs a secure
 * context, e.g. not a LAN IP).
 */
export function newClientMsgId(now = Date.now()): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(10)), (b) => b.toString(16).padStart(2, '0')).join('');
  return now.toString(16).padStart(12, '0') + random;
}
