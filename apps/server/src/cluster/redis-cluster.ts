import { randomUUID } from 'node:crypto';
import { redactUrl } from '../redact-url.js';
import { RedisBroker } from './redis-broker.js';
import { RedisPresence } from './redis-presence.js';

export interface RedisClusterOptions {
  nodeId: string;
  presenceTtlMs: number;
  /** Key and channel prefix (tests give each server its own). Default `chat:`. */
  prefix?: string;
  onError?: (err: Error) => void;
}

/**
 * What a node needs to be one of several: the broker and the presence
 * registry on one Redis. The instance id adds a per-start suffix to the node
 * id, so a node restarted under the same NODE_ID does not revive the entries
 * its previous life left behind.
 */
export async function openRedisCluster(url: string, options: RedisClusterOptions) {
  const instanceId = `${options.nodeId}#${randomUUID().slice(0, 8)}`;
  const common = {
    instanceId,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  };
  const broker = new RedisBroker(url, common);
  const presence = new RedisPresence(url, { ...common, ttlMs: options.presenceTtlMs });
  try {
    await broker.connect();
    await presence.start();
  } catch (err) {
    await Promise.allSettled([broker.close(), presence.close()]);
    throw new Error(`cannot reach Redis at ${redactUrl(url)}: ${(err as Error).message}`);
  }
  return { instanceId, broker, presence };
}
