/**
 * Heartbeats share one timer per period: every connection with the same idle
 * timeout is checked on the same tick. A timer each would cost every idle
 * connection a Timeout object and a closure (about 200 bytes) and the event
 * loop a timer-list entry; with 10,000 connections that is the difference.
 *
 * A connection is dropped after between two and three periods of silence —
 * the same bounds as a timer of its own, only the phase differs.
 */
export interface HeartbeatMember {
  /** Called once per period while the member is watched. */
  onHeartbeat(): void;
}

interface Group {
  readonly members: Set<HeartbeatMember>;
  readonly timer: NodeJS.Timeout;
}

const groups = new Map<number, Group>();

export function watchHeartbeat(periodMs: number, member: HeartbeatMember): void {
  let group = groups.get(periodMs);
  if (!group) {
    const members = new Set<HeartbeatMember>();
    const timer = setInterval(() => {
      for (const m of members) m.onHeartbeat();
    }, periodMs);
    // Heartbeats alone never keep a process alive.
    timer.unref();
    group = { members, timer };
    groups.set(periodMs, group);
  }
  group.members.add(member);
}

export function unwatchHeartbeat(periodMs: number, member: HeartbeatMember): void {
  const group = groups.get(periodMs);
  if (!group?.members.delete(member)) return;
  if (group.members.size === 0) {
    clearInterval(group.timer);
    groups.delete(periodMs);
  }
}
