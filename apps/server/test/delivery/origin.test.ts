import path from 'node:path';
import { HandshakeError } from '@chat/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChatSocket,
  createCleanup,
  guest,
  killAtCleanup,
  startServer,
  tempDir,
  type Account,
  type ServerProcess,
} from './support.js';

const cleanup = createCleanup();
afterEach(() => cleanup.run());

async function serverWith(env: Record<string, string> = {}): Promise<ServerProcess> {
  const dir = await tempDir();
  cleanup.add(() => dir.remove());
  return killAtCleanup(cleanup, await startServer({ databasePath: path.join(dir.path, 'chat.db'), env }));
}

/** 101 when the upgrade with this Origin is accepted, else the refusal's HTTP status. */
async function upgradeStatus(server: ServerProcess, account: Account, origin?: string): Promise<number> {
  try {
    const socket = await ChatSocket.open(server.wsUrl, account, origin === undefined ? {} : { origin });
    await socket.close();
    return 101;
  } catch (err) {
    if (err instanceof HandshakeError) return err.status;
    throw err;
  }
}

describe('the Origin check on /ws', () => {
  it('by default refuses a foreign Origin with 403 and accepts the server’s own origin and none', async () => {
    const server = await serverWith();
    const account = await guest(server.url, 'o');
    expect(await upgradeStatus(server, account, 'http://evil.example')).toBe(403);
    expect(await upgradeStatus(server, account, `http://127.0.0.1:${server.port}.evil.example`)).toBe(403);
    expect(await upgradeStatus(server, account, 'null')).toBe(403);
    expect(await upgradeStatus(server, account, `http://127.0.0.1:${server.port}`)).toBe(101);
    expect(await upgradeStatus(server, account)).toBe(101);
  });

  it('with ALLOWED_ORIGINS accepts exactly the listed origins and refuses others with 403', async () => {
    const server = await serverWith({ ALLOWED_ORIGINS: 'http://good.example' });
    const account = await guest(server.url, 'o');
    expect(await upgradeStatus(server, account, 'http://good.example')).toBe(101);
    expect(await upgradeStatus(server, account, 'http://evil.example')).toBe(403);
    expect(await upgradeStatus(server, account, 'https://good.example')).toBe(403);
    expect(await upgradeStatus(server, account, 'http://good.example.evil.example')).toBe(403);
    expect(await upgradeStatus(server, account, `http://127.0.0.1:${server.port}`)).toBe(403);
  });

  it('refuses a foreign Origin before looking at the session (403 even without a token)', async () => {
    const server = await serverWith();
    expect(await upgradeStatus(server, { username: 'nobody', token: 'not-a-token' }, 'http://evil.example')).toBe(403);
    expect(await upgradeStatus(server, { username: 'nobody', token: 'not-a-token' })).toBe(401);
  });
});
