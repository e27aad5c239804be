import { describe, expect, it } from 'vitest';
import {
  ADMIN,
  BANNED,
  MEMBER,
  MODERATOR,
  OWNER,
  STRANGER,
  refusal,
  type RoomAction,
  type RoomState,
  type Standing,
} from '../../src/chat/access.js';

/**
 * The rules as a table: who × room state × action → allowed, or which
 * refusal. Written out by hand, not derived from the code under test.
 */
type Outcome =
  | 'ok'
  | 'no room'
  | 'banned'
  | 'private'
  | 'join first'
  | 'archived'
  | 'not author'
  | 'not deleter'
  | 'not moderator'
  | 'not owner'
  | 'no moderators'
  | 'no owner'
  | 'admin only'
  | 'on moderator'
  | 'on owner';

const ROOMS: Record<string, RoomState | undefined> = {
  missing: undefined,
  public: { private: false, archived: false },
  private: { private: true, archived: false },
  'archived public': { private: false, archived: true },
  'archived private': { private: true, archived: true },
  direct: { private: true, archived: false, kind: 'direct' },
};
const WHO: Record<string, Standing> = {
  stranger: STRANGER,
  member: MEMBER,
  moderator: MODERATOR,
  owner: OWNER,
  banned: BANNED,
  admin: ADMIN,
};

// The columns: an action, with the message's author where it matters.
const ACTIONS = [
  'read',
  'join',
  'send',
  'edit own',
  'edit others',
  'delete own',
  'delete others',
  'moderate',
  'invite',
  'manage',
  'administer',
] as const;
type Column = (typeof ACTIONS)[number];
const ASK: Record<Column, [RoomAction, boolean | undefined]> = {
  read: ['read', undefined],
  join: ['join', undefined],
  send: ['send', undefined],
  'edit own': ['edit_message', true],
  'edit others': ['edit_message', false],
  'delete own': ['delete_message', true],
  'delete others': ['delete_message', false],
  moderate: ['moderate', undefined],
  invite: ['invite', undefined],
  manage: ['manage', undefined],
  administer: ['administer', undefined],
};

const all = (o: Outcome): Outcome[] => ACTIONS.map(() => o);
//           read  join  send  edit-own  edit-others   del-own  del-others      moderate         invite           manage       administer
const TABLE: Record<string, Record<string, Outcome[]>> = {
  missing: { stranger: all('no room'), member: all('no room'), moderator: all('no room'), owner: all('no room'), banned: all('no room'), admin: all('no room') },
  public: {
    stranger: ['ok', 'ok', ...Array<Outcome>(8).fill('join first'), 'admin only'],
    member: ['ok', 'ok', 'ok', 'ok', 'not author', 'ok', 'not deleter', 'not moderator', 'not moderator', 'not owner', 'admin only'],
    moderator: ['ok', 'ok', 'ok', 'ok', 'not author', 'ok', 'ok', 'ok', 'ok', 'not owner', 'admin only'],
    owner: ['ok', 'ok', 'ok', 'ok', 'not author', 'ok', 'ok', 'ok', 'ok', 'ok', 'admin only'],
    banned: [...Array<Outcome>(10).fill('banned'), 'admin only'],
    admin: ['ok', 'ok', 'ok', 'ok', 'not author', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'],
  },
  private: {
    stranger: [...Array<Outcome>(10).fill('private'), 'admin only'],
    member: ['ok', 'ok', 'ok', 'ok', 'not author', 'ok', 'not deleter', 'not moderator', 'not moderator', 'not owner', 'admin only'],
    moderator: ['ok', 'ok', 'ok', 'ok', 'not author', 'ok', 'ok', 'ok', 'ok', 'not owner', 'admin only'],
    owner: ['ok', 'ok', 'ok', 'ok', 'not author', 'ok', 'ok', 'ok', 'ok', 'ok', 'admin only'],
    banned: [...Array<Outcome>(10).fill('banned'), 'admin only'],
    admin: ['ok', 'ok', 'ok', 'ok', 'not author', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'],
  },
  // Archived: read-only for messages (admins included); moderation and management go on, invitations do not.
  'archived public': {
    stranger: ['ok', 'ok', ...Array<Outcome>(8).fill('join first'), 'admin only'],
    member: ['ok', 'ok', 'archived', 'archived', 'archived', 'archived', 'archived', 'not moderator', 'archived', 'not owner', 'admin only'],
    moderator: ['ok', 'ok', 'archived', 'archived', 'archived', 'archived', 'archived', 'ok', 'archived', 'not owner', 'admin only'],
    owner: ['ok', 'ok', 'archived', 'archived', 'archived', 'archived', 'archived', 'ok', 'archived', 'ok', 'admin only'],
    banned: [...Array<Outcome>(10).fill('banned'), 'admin only'],
    admin: ['ok', 'ok', 'archived', 'archived', 'archived', 'archived', 'archived', 'ok', 'archived', 'ok', 'ok'],
  },
  'archived private': {
    stranger: [...Array<Outcome>(10).fill('private'), 'admin only'],
    member: ['ok', 'ok', 'archived', 'archived', 'archived', 'archived', 'archived', 'not moderator', 'archived', 'not owner', 'admin only'],
    moderator: ['ok', 'ok', 'archived', 'archived', 'archived', 'archived', 'archived', 'ok', 'archived', 'not owner', 'admin only'],
    owner: ['ok', 'ok', 'archived', 'archived', 'archived', 'archived', 'archived', 'ok', 'archived', 'ok', 'admin only'],
    banned: [...Array<Outcome>(10).fill('banned'), 'admin only'],
    admin: ['ok', 'ok', 'archived', 'archived', 'archived', 'archived', 'archived', 'ok', 'archived', 'ok', 'ok'],
  },
  // A direct conversation is missing to everyone outside it, and has no moderators or owner (a role read for it changes nothing).
  direct: {
    stranger: all('no room'),
    member: ['ok', 'ok', 'ok', 'ok', 'not author', 'ok', 'not deleter', 'no moderators', 'no moderators', 'no owner', 'admin only'],
    moderator: ['ok', 'ok', 'ok', 'ok', 'not author', 'ok', 'not deleter', 'no moderators', 'no moderators', 'no owner', 'admin only'],
    owner: ['ok', 'ok', 'ok', 'ok', 'not author', 'ok', 'not deleter', 'no moderators', 'no moderators', 'no owner', 'admin only'],
    banned: all('no room'),
    admin: ['ok', 'ok', 'ok', 'ok', 'not author', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'],
  },
};

/** Who may act on whom (kick, ban, change a role), in a public room: asker × target → outcome for moderate, manage. */
const TARGETS: Record<string, Standing> = { member: MEMBER, moderator: MODERATOR, owner: OWNER, banned: BANNED, stranger: STRANGER };
const ON_TARGET: Record<string, Record<string, [Outcome, Outcome]>> = {
  member: {
    member: ['not moderator', 'not owner'],
    moderator: ['not moderator', 'not owner'],
    owner: ['not moderator', 'not owner'],
    banned: ['not moderator', 'not owner'],
    stranger: ['not moderator', 'not owner'],
  },
  moderator: {
    member: ['ok', 'not owner'],
    moderator: ['on moderator', 'not owner'],
    owner: ['on owner', 'not owner'],
    banned: ['ok', 'not owner'],
    stranger: ['ok', 'not owner'],
  },
  owner: {
    member: ['ok', 'ok'],
    moderator: ['ok', 'ok'],
    owner: ['on owner', 'on owner'],
    banned: ['ok', 'ok'],
    stranger: ['ok', 'ok'],
  },
  admin: {
    member: ['ok', 'ok'],
    moderator: ['ok', 'ok'],
    owner: ['ok', 'ok'],
    banned: ['ok', 'ok'],
    stranger: ['ok', 'ok'],
  },
};

/** How each refusal reads to a client: its code and the words that say why. */
const REFUSALS: Record<Exclude<Outcome, 'ok'>, { code: string; message: RegExp }> = {
  'no room': { code: 'not_found', message: /^no room general$/ },
  banned: { code: 'forbidden', message: /banned/ },
  private: { code: 'forbidden', message: /private/ },
  'join first': { code: 'forbidden', message: /^join general first$/ },
  archived: { code: 'forbidden', message: /archived/ },
  'not author': { code: 'forbidden', message: /only the author may edit/ },
  'not deleter': { code: 'forbidden', message: /only the author or a moderator may delete/ },
  'not moderator': { code: 'forbidden', message: /only a moderator or the owner/ },
  'not owner': { code: 'forbidden', message: /only the owner may do this/ },
  'no moderators': { code: 'forbidden', message: /direct conversation has no moderators/ },
  'no owner': { code: 'forbidden', message: /direct conversation has no owner/ },
  'admin only': { code: 'forbidden', message: /only an admin/ },
  'on moderator': { code: 'forbidden', message: /only the owner may act on a moderator/ },
  'on owner': { code: 'forbidden', message: /nobody may act on the owner/ },
};

const expectOutcome = (result: ReturnType<typeof refusal>, expected: Outcome) => {
  if (expected === 'ok') {
    expect(result).toBeUndefined();
  } else {
    expect(result?.code).toBe(REFUSALS[expected].code);
    expect(result?.message).toMatch(REFUSALS[expected].message);
  }
};

const cases = Object.entries(TABLE).flatMap(([room, rows]) =>
  Object.entries(rows).flatMap(([who, outcomes]) => ACTIONS.map((column, i) => ({ room, who, column, expected: outcomes[i]! }))),
);
const targetCases = Object.entries(ON_TARGET).flatMap(([who, rows]) =>
  Object.entries(rows).flatMap(([target, [moderate, manage]]) => [
    { who, target, action: 'moderate' as const, expected: moderate },
    { who, target, action: 'manage' as const, expected: manage },
  ]),
);

/** Pinning and `@room`, by hand: room × who → [pin, mention_room]. */
const PIN_AND_ROOM_MENTION: Record<string, Record<string, [Outcome, Outcome]>> = {
  missing: { stranger: ['no room', 'no room'], member: ['no room', 'no room'], admin: ['no room', 'no room'] },
  public: {
    stranger: ['join first', 'join first'],
    member: ['not moderator', 'not moderator'],
    moderator: ['ok', 'ok'],
    owner: ['ok', 'ok'],
    banned: ['banned', 'banned'],
    admin: ['ok', 'ok'],
  },
  private: {
    stranger: ['private', 'private'],
    member: ['not moderator', 'not moderator'],
    moderator: ['ok', 'ok'],
    owner: ['ok', 'ok'],
    banned: ['banned', 'banned'],
    admin: ['ok', 'ok'],
  },
  'archived public': {
    stranger: ['join first', 'join first'],
    member: ['archived', 'archived'],
    moderator: ['archived', 'archived'],
    owner: ['archived', 'archived'],
    banned: ['banned', 'banned'],
    admin: ['archived', 'archived'],
  },
  'archived private': {
    stranger: ['private', 'private'],
    member: ['archived', 'archived'],
    owner: ['archived', 'archived'],
    admin: ['archived', 'archived'],
  },
  // Everyone in a direct conversation may pin and mention all of it.
  direct: {
    stranger: ['no room', 'no room'],
    member: ['ok', 'ok'],
    moderator: ['ok', 'ok'],
    banned: ['no room', 'no room'],
    admin: ['ok', 'ok'],
  },
};
const pinCases = Object.entries(PIN_AND_ROOM_MENTION).flatMap(([room, rows]) =>
  Object.entries(rows).flatMap(([who, [pin, mention]]) => [
    { room, who, action: 'pin' as const, expected: pin },
    { room, who, action: 'mention_room' as const, expected: mention },
  ]),
);

describe('the access rules', () => {
  it.each(pinCases)('$who: $action in a $room room → $expected', ({ room, who, action, expected }) => {
    expectOutcome(refusal(action, WHO[who]!, 'general', ROOMS[room]), expected);
  });

  it('cover every room state and standing', () => {
    expect(Object.keys(TABLE)).toEqual(Object.keys(ROOMS));
    for (const rows of Object.values(TABLE)) {
      expect(Object.keys(rows)).toEqual(Object.keys(WHO));
      for (const outcomes of Object.values(rows)) expect(outcomes).toHaveLength(ACTIONS.length);
    }
    expect(cases).toHaveLength(Object.keys(ROOMS).length * Object.keys(WHO).length * ACTIONS.length);
  });

  it.each(cases)('$who, $room room, $column → $expected', ({ room, who, column, expected }) => {
    const [action, byAsker] = ASK[column];
    expectOutcome(refusal(action, WHO[who]!, 'general', ROOMS[room], byAsker === undefined ? {} : { byAsker }), expected);
  });

  it.each(targetCases)('$who does $action to a $target → $expected', ({ who, target, action, expected }) => {
    expectOutcome(refusal(action, WHO[who]!, 'general', ROOMS.public, { target: TARGETS[target] }), expected);
  });
});
