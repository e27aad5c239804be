/**
 * The start both PostgreSQL fault tests share: a PostgreSQL cluster of the
 * test's own, one node on it, a room and a clerk in it who has stored the
 * first `before` messages (b1, b2, …; seq 1, 2, …).
 */
import { expect } from 'vitest';
import { ChatSocket, createRoom, guest, killAtCleanup, startServer, tempDir, type createCleanup } from '../delivery/support.js';
import { OwnPostgres } from './processes.js';

export async function clerkOnOwnPostgres(cleanup: ReturnType<typeof createCleanup>, room: string, before: number, env: Record<string, string> = {}) {
  const postgres = await OwnPostgres.start();
  cleanup.add(() => postgres.destroy());
  const dir = await tempDir();
  cleanup.add(() => dir.remove());
  const node = killAtCleanup(cleanup, await startServer({ databasePath: `${dir.path}/unused.db`, env: { DATABASE_URL: postgres.url, ...env } }));
  await createRoom(node.url, room);
  const account = await guest(node.url, 'clerk');
  const socket = await ChatSocket.open(node.wsUrl, account);
  cleanup.add(() => socket.connection.terminate());
  await socket.join(room);
  for (let i = 1; i <= before; i++) {
    expect(await socket.call({ type: 'send', room, text: `before ${i}`, clientMsgId: `b${i}` })).toMatchObject({ type: 'message', seq: i });
  }
  return { postgres, node, account, socket };
}
