import type { TestServer } from './build.js';
import { openClient, type ChatClient } from './chat-client.js';
import { request, type SignedIn } from './http.js';

/**
 * REST calls and sockets as a signed-in user, for test files whose server is
 * built anew before each test (`current` reads it); every socket opened is
 * kept in `clients`, for the file's afterEach to close.
 */
export function actingAs(current: () => TestServer, clients: ChatClient[]) {
  return {
    api: (who: SignedIn, method: string, path: string, body?: unknown) =>
      request(current(), method, path, { token: who.token, ...(body === undefined ? {} : { body }) }),
    /** A socket of `who`, joined to `rooms` in order. */
    connect: async (who: SignedIn, ...rooms: string[]) => {
      const client = await openClient(current(), { token: who.token, name: who.user.username });
      clients.push(client);
      for (const room of rooms) await client.join(room);
      return client;
    },
  };
}
