import { describe, expect, it } from 'vitest';
import { ADMIN, BANNED, MEMBER, STRANGER, refusal, type RoomAction, type RoomState, type Standing } from '../../src/chat/access.js';

/**
 * The rules as a table: who × room state × action → allowed, or which
 * refusal. Written out by hand, not derived from the code under test; the
 * roles and direct messages of later work add columns and rows here.
 */
type Outcome = 'ok' | 'no room' | 'banned' | 'private' | 'join first' | 'archived' | 'not author' | 'admin only';

const ROOMS: Record<string, RoomState | undefined> = {
  missing: undefined,
  public: { private: false, archived: false },
  private: { private: true, archived: false },
  'archived public': { private: false, archived: true },
  'archived private': { private: true, archived: true },
};
const WHO: Record<string, Standing> = { stranger: STRANGER, member: MEMBER, banned: BANNED, admin: ADMIN };

// Columns: read, join, send, change own message, change another's message, administer.
type Action = RoomAction | 'change_others';
const ACTIONS: Action[] = ['read', 'join', 'send', 'change_message', 'change_others', 'administer'];
const TABLE: Record<string, Record<string, Outcome[]>> = {
  missing: {
    stranger: ['no room', 'no room', 'no room', 'no room', 'no room', 'no room'],
    member: ['no room', 'no room', 'no room', 'no room', 'no room', 'no room'],
    banned: ['no room', 'no room', 'no room', 'no room', 'no room', 'no room'],
    admin: ['no room', 'no room', 'no room', 'no room', 'no room', 'no room'],
  },
  public: {
    stranger: ['ok', 'ok', 'join first', 'join first', 'join first', 'admin only'],
    member: ['ok', 'ok', 'ok', 'ok', 'not author', 'admin only'],
    banned: ['banned', 'banned', 'banned', 'banned', 'banned', 'admin only'],
    admin: ['ok', 'ok', 'ok', 'ok', 'ok', 'ok'],
  },
  private: {
    stranger: ['private', 'private', 'private', 'private', 'private', 'admin only'],
    member: ['ok', 'ok', 'ok', 'ok', 'not author', 'admin only'],
    banned: ['banned', 'banned', 'banned', 'banned', 'banned', 'admin only'],
    admin: ['ok', 'ok', 'ok', 'ok', 'ok', 'ok'],
  },
  'archived public': {
    stranger: ['ok', 'ok', 'join first', 'join first', 'join first', 'admin only'],
    member: ['ok', 'ok', 'archived', 'archived', 'archived', 'admin only'],
    banned: ['banned', 'banned', 'banned', 'banned', 'banned', 'admin only'],
    admin: ['ok', 'ok', 'archived', 'archived', 'archived', 'ok'],
  },
  'archived private': {
    stranger: ['private', 'private', 'private', 'private', 'private', 'admin only'],
    member: ['ok', 'ok', 'archived', 'archived', 'archived', 'admin only'],
    banned: ['banned', 'banned', 'banned', 'banned', 'banned', 'admin only'],
    admin: ['ok', 'ok', 'archived', 'archived', 'archived', 'ok'],
  },
};

/** How each refusal reads to a client: its code and the words that say why. */
const REFUSALS: Record<Exclude<Outcome, 'ok'>, { code: string; message: RegExp }> = {
  'no room': { code: 'not_found', message: /^no room general$/ },
  banned: { code: 'forbidden', message: /banned/ },
  private: { code: 'forbidden', message: /private/ },
  'join first': { code: 'forbidden', message: /^join general first$/ },
  archived: { code: 'forbidden', message: /archived/ },
  'not author': { code: 'forbidden', message: /only the author/ },
  'admin only': { code: 'forbidden', message: /only an admin/ },
};

const cases = Object.entries(TABLE).flatMap(([room, rows]) =>
  Object.entries(rows).flatMap(([who, outcomes]) => ACTIONS.map((action, i) => ({ room, who, action, expected: outcomes[i]! }))),
);

describe('the access rules', () => {
  it('cover every room state and standing', () => {
    expect(Object.keys(TABLE)).toEqual(Object.keys(ROOMS));
    for (const rows of Object.values(TABLE)) expect(Object.keys(rows)).toEqual(Object.keys(WHO));
    expect(cases).toHaveLength(Object.keys(ROOMS).length * Object.keys(WHO).length * ACTIONS.length);
  });

  it.each(cases)('$who, $room room, $action → $expected', ({ room, who, action, expected }) => {
    const message = action === 'change_message' ? { byAsker: true } : action === 'change_others' ? { byAsker: false } : undefined;
    const asked: RoomAction = action === 'change_others' ? 'change_message' : action;
    const result = refusal(asked, WHO[who]!, 'general', ROOMS[room], message);
    if (expected === 'ok') {
      expect(result).toBeUndefined();
    } else {
      expect(result?.code).toBe(REFUSALS[expected].code);
      expect(result?.message).toMatch(REFUSALS[expected].message);
    }
  });
});
