import { Redis } from 'ioredis';
import type { PresenceRegistry } from '../chat/presence.js';

export interface RedisPresenceOptions {
  /** This process's name (node id + a per-start suffix); see `RedisBroker`. */
  instanceId: string;
  /** Default `chat:`. */
  prefix?: string;
  /**
   * How long a node's entries outlive its last heartbeat. The node refreshes
   * its liveness key every third of this; a node that dies is reaped (its
   * users announced offline) at most about 1⅓ × this after its last beat.
   */
  ttlMs?: number;
  onError?: (err: Error) => void;
}

/*
 * Layout: one hash per room, field `<userId>@<instance>` → username, and one
 * key per live instance, `instance:<instance>`, that expires unless refreshed.
 * An entry counts only while its instance's key exists, so a node that dies
 * stops counting when its key expires — before anyone has cleaned up after it.
 * The scripts run atomically, so two nodes never both announce one change.
 */

/** KEYS[1] room hash · ARGV: userId, instance, username, instance-key prefix → 1 if no other live instance has the user. */
const ARRIVE = `
local mine = ARGV[1] .. '@'
local first = 1
local fields = redis.call('HKEYS', KEYS[1])
for i = 1, #fields do
  local f = fields[i]
  if string.sub(f, 1, #mine) == mine then
    local inst = string.sub(f, #mine + 1)
    if inst ~= ARGV[2] and redis.call('EXISTS', ARGV[4] .. inst) == 1 then first = 0 end
  end
end
redis.call('HSET', KEYS[1], mine .. ARGV[2], ARGV[3])
return first
`;

/** KEYS[1] room hash · ARGV: userId, instance, instance-key prefix → 1 if no live instance has the user any more. */
const DEPART = `
local mine = ARGV[1] .. '@'
redis.call('HDEL', KEYS[1], mine .. ARGV[2])
local fields = redis.call('HKEYS', KEYS[1])
for i = 1, #fields do
  local f = fields[i]
  if string.sub(f, 1, #mine) == mine and redis.call('EXISTS', ARGV[3] .. string.sub(f, #mine + 1)) == 1 then return 0 end
end
return 1
`;

/** KEYS[1] room hash · ARGV: instance-key prefix → user ids with at least one live instance. */
const ONLINE = `
local alive = {}
local users = {}
local out = {}
local fields = redis.call('HKEYS', KEYS[1])
for i = 1, #fields do
  local f = fields[i]
  local at = string.find(f, '@', 1, true)
  if at then
    local inst = string.sub(f, at + 1)
    if alive[inst] == nil then alive[inst] = redis.call('EXISTS', ARGV[1] .. inst) end
    local uid = string.sub(f, 1, at - 1)
    if alive[inst] == 1 and not users[uid] then
      users[uid] = true
      out[#out + 1] = uid
    end
  end
end
return out
`;

/**
 * KEYS[1] room hash · ARGV: instance-key prefix → flat list userId, username of
 * the users whose every entry belonged to dead instances (removed here).
 */
const REAP = `
local alive = {}
local dead = {}
local living = {}
local kv = redis.call('HGETALL', KEYS[1])
for i = 1, #kv, 2 do
  local f = kv[i]
  local at = string.find(f, '@', 1, true)
  if at then
    local inst = string.sub(f, at + 1)
    local uid = string.sub(f, 1, at - 1)
    if alive[inst] == nil then alive[inst] = redis.call('EXISTS', ARGV[1] .. inst) end
    if alive[inst] == 1 then
      living[uid] = true
    else
      redis.call('HDEL', KEYS[1], f)
      dead[uid] = kv[i + 1]
    end
  end
end
local out = {}
for uid, name in pairs(dead) do
  if not living[uid] then
    out[#out + 1] = uid
    out[#out + 1] = name
  end
end
return out
`;

interface PresenceCommands {
  presenceArrive(key: string, userId: string, instance: string, username: string, instancePrefix: string): Promise<number>;
  presenceDepart(key: string, userId: string, instance: string, instancePrefix: string): Promise<number>;
  presenceOnline(key: string, instancePrefix: string): Promise<string[]>;
  presenceReap(key: string, instancePrefix: string): Promise<string[]>;
}

/** Presence across nodes in Redis; entries of a node that stops beating expire. */
export class RedisPresence implements PresenceRegistry {
  private readonly redis: Redis & PresenceCommands;
  private readonly roomPrefix: string;
  private readonly instancePrefix: string;
  private readonly instanceKey: string;
  private readonly ttlMs: number;
  private readonly onError: (err: Error) => void;
  /** What this node has registered: re-registered if Redis lost it (a restart keeps nothing). */
  private readonly local = new Map<string, Map<number, string>>();
  private expired: (room: string, userId: number, username: string) => void = () => {};
  private timer: NodeJS.Timeout | undefined;
  private beating = false;

  constructor(
    url: string,
    private readonly options: RedisPresenceOptions,
  ) {
    const prefix = options.prefix ?? 'chat:';
    this.roomPrefix = `${prefix}presence:`;
    this.instancePrefix = `${prefix}instance:`;
    this.instanceKey = this.instancePrefix + options.instanceId;
    this.ttlMs = options.ttlMs ?? 15_000;
    this.onError = options.onError ?? (() => {});
    const redis = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: true });
    redis.on('error', this.onError);
    redis.defineCommand('presenceArrive', { numberOfKeys: 1, lua: ARRIVE });
    redis.defineCommand('presenceDepart', { numberOfKeys: 1, lua: DEPART });
    redis.defineCommand('presenceOnline', { numberOfKeys: 1, lua: ONLINE, readOnly: true });
    redis.defineCommand('presenceReap', { numberOfKeys: 1, lua: REAP });
    this.redis = redis as Redis & PresenceCommands;
  }

  /** Connects and starts beating; the first beat is awaited so this node's entries count at once. */
  async start(): Promise<void> {
    await this.redis.connect();
    await this.redis.set(this.instanceKey, '1', 'PX', this.ttlMs);
    this.timer = setInterval(() => void this.beat(), Math.max(100, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  setExpiredHandler(handler: (room: string, userId: number, username: string) => void): void {
    this.expired = handler;
  }

  async arrive(room: string, userId: number, username: string): Promise<boolean> {
    let users = this.local.get(room);
    if (!users) this.local.set(room, (users = new Map()));
    users.set(userId, username);
    return (await this.redis.presenceArrive(this.roomPrefix + room, String(userId), this.options.instanceId, username, this.instancePrefix)) === 1;
  }

  async depart(room: string, userId: number): Promise<boolean> {
    const users = this.local.get(room);
    users?.delete(userId);
    if (users?.size === 0) this.local.delete(room);
    return (await this.redis.presenceDepart(this.roomPrefix + room, String(userId), this.options.instanceId, this.instancePrefix)) === 1;
  }

  async online(room: string): Promise<ReadonlySet<number>> {
    const ids = await this.redis.presenceOnline(this.roomPrefix + room, this.instancePrefix);
    return new Set(ids.map(Number));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    try {
      // Our entries stop counting now rather than when the key would expire;
      // any left behind (a departure still in flight) are reaped by the others.
      await this.redis.del(this.instanceKey);
    } catch (err) {
      this.onError(err as Error);
    }
    // Closing for good: a connection already gone (the usual reason quit fails) is the state we want.
    await this.redis.quit().catch(() => {});
  }

  /** Refreshes this node's liveness, then reaps the rooms it serves of dead nodes' users. */
  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const before = await this.redis.set(this.instanceKey, '1', 'PX', this.ttlMs, 'GET');
      if (before === null) await this.reregister();
      for (const room of [...this.local.keys()]) {
        const gone = await this.redis.presenceReap(this.roomPrefix + room, this.instancePrefix);
        for (let i = 0; i + 1 < gone.length; i += 2) this.expired(room, Number(gone[i]), gone[i + 1]!);
      }
    } catch (err) {
      this.onError(err as Error);
    } finally {
      this.beating = false;
    }
  }

  /** Our liveness key was gone (Redis restarted, or we were cut off longer than the TTL): put our entries back. */
  private async reregister(): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const [room, users] of this.local) {
      for (const [userId, username] of users) pipeline.hset(this.roomPrefix + room, `${userId}@${this.options.instanceId}`, username);
    }
    await pipeline.exec();
  }
}
