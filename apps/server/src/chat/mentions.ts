import { MENTION_PATTERN } from '@chat/schema';
import { DomainError } from '../domain-error.js';
import type { ChatStore } from '../storage/store.js';
import type { RoomService } from './rooms.js';

/** Distinct people one message may mention (`@room` aside): more is refused as a flood. */
export const MAX_MENTIONS = 20;


export interface MentionsInText {
  /** Lower-cased, each once; a name ending in `.` or `-` also without it ("@bob." at the end of a sentence). */
  names: string[];
  /** `@room`: everyone in the room. */
  room: boolean;
}

/** The mentions a message's text makes; refuses more than MAX_MENTIONS distinct names. */
export function mentionsIn(text: string): MentionsInText {
  const written = new Set<string>();
  let room = false;
  for (const match of text.matchAll(MENTION_PATTERN)) {
    const name = match[1]!.toLowerCase();
    if (name === 'room') room = true;
    else written.add(name);
  }
  if (written.size > MAX_MENTIONS) {
    throw new DomainError('invalid_request', `a message mentions at most ${MAX_MENTIONS} people`);
  }
  const names = new Set(written);
  for (const name of written) {
    const trimmed = name.replace(/[.-]+$/, '');
    if (trimmed.length >= 2) names.add(trimmed);
  }
  return { names: [...names], room };
}

/**
 * Whom a message notifies: the members it names, or every member for `@room`
 * (owners and moderators only, in a room: access.ts), never its author.
 * Names of non-members reach no one.
 */
export class Mentions {
  constructor(
    private readonly store: ChatStore,
    private readonly rooms: RoomService,
  ) {}

  async resolve(authorId: number, roomId: string, text: string): Promise<number[]> {
    if (!text.includes('@')) return [];
    const { names, room } = mentionsIn(text);
    let members: Array<{ userId: number }>;
    if (room) {
      await this.rooms.permitted({ userId: authorId }, roomId, 'mention_room');
      members = await this.store.listMembers(roomId);
    } else {
      if (names.length === 0) return [];
      members = await this.store.membersNamed(roomId, names);
    }
    return members.map((m) => m.userId).filter((id) => id !== authorId);
  }
}
