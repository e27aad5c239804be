/**
 * Heartbeats share one timer per period: every connection with the same idle
 * timeout is checked on the same tick. A timer each would cost every idle
 * connection a Timeout object and a closure (about 200 bytes) and the event
 * loop a timer-list entry; with 10,000 connections that is the difference.
 *
 * The shared timer ticks `HEARTBEAT_TICKS_PER_TIMEOUT` times per idle
 * timeout, and a member counts the ticks it has been silent through: a timer's
 * phase then decides at most a quarter of the timeout, so a silent peer is
 * dropped between 1 and 1¼ × the timeout after its last byte (with one tick
 * per timeout, as before issue #24.8, that was 2–3 ×).
 */
/** How many times per idle timeout members are checked. */
export const HEARTBEAT_TICKS_PER_TIMEOUT = 4;

export interface HeartbeatMember {
  /** Called `HEARTBEAT_TICKS_PER_TIMEOUT` times per idle timeout while the member is watched. */
  onHeartbeat(): void;
}

interface Group {
  readonly members: Set<HeartbeatMember>;
  readonly timer: NodeJS.Timeout;
}

const groups = new Map<number, Group>();

/** Watches `member` with the members of the same idle timeout (one timer for all of them). */
export function watchHeartbeat(idleTimeoutMs: number, member: HeartbeatMember): void {
  let group = groups.get(idleTimeoutMs);
  if (!group) {
    const members = new Set<HeartbeatMember>();
    const timer = setInterval(() => {
      for (const m of members) m.onHeartbeat();
    }, idleTimeoutMs / HEARTBEAT_TICKS_PER_TIMEOUT);
    // Heartbeats alone never keep a process alive.
    timer.unref();
    group = { members, timer };
    groups.set(idleTimeoutMs, group);
  }
  group.members.add(member);
}

export function unwatchHeartbeat(idleTimeoutMs: number, member: HeartbeatMember): void {
  const group = groups.get(idleTimeoutMs);
  if (!group?.members.delete(member)) return;
  if (group.members.size === 0) {
    clearInterval(group.timer);
    groups.delete(idleTimeoutMs);
  }
}
