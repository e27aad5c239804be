import { describe, expect, test } from 'vitest';
import { newClientMsgId } from '../src/client-msg-id.js';

describe('newClientMsgId', () => {
  test('is 32 hex digits, within the protocol’s 64 characters', () => {
    expect(newClientMsgId()).toMatch(/^[0-9a-f]{32}$/);
  });

  test('sorts by the time it was made, across every width of the clock', () => {
    const times = [0, 1, 15, 16, 255, 1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000, 2 ** 47];
    const ids = times.map((t) => newClientMsgId(t));
    expect([...ids].sort()).toEqual(ids);
    expect(ids[5]!.slice(0, 12)).toBe((1_700_000_000_000).toString(16).padStart(12, '0'));
  });

  test('differs between ids made in the same millisecond', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newClientMsgId(1_700_000_000_000)));
    expect(ids.size).toBe(1000);
  });
});
