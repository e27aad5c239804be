import { describe, expect, it } from 'vitest';
import { MAX_MENTIONS, mentionsIn } from '../../src/chat/mentions.js';

describe('mentionsIn', () => {
  it.each([
    ['hi @bob', ['bob'], false],
    ['@Bob and @bob and @BOB', ['bob'], false],
    ['(@ann), @bo.b: @cy-d!', ['ann', 'bo.b', 'cy-d'], false],
    ['thanks @bob.', ['bob.', 'bob'], false],
    ['ask @dev-team-', ['dev-team-', 'dev-team'], false],
    ['mail bob@example.com or x@y', [], false],
    ['@@bob is not one, a@bob neither', [], false],
    ['@a is too short, @' + 'x'.repeat(33) + ' too long', [], false],
    ['all of you @room', [], true],
    ['@ROOM and @ann', ['ann'], true],
    ['no mentions at all', [], false],
  ])('%j → %j (room: %s)', (text, names, room) => {
    expect(mentionsIn(text)).toEqual({ names, room });
  });

  it(`refuses more than ${MAX_MENTIONS} people, counting each once`, () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `@user${i}`).join(' ');
    expect(mentionsIn(names(MAX_MENTIONS) + ' @user0 @USER1 @room').names).toHaveLength(MAX_MENTIONS);
    expect(() => mentionsIn(names(MAX_MENTIONS + 1))).toThrow(/at most 20 people/);
  });
});
