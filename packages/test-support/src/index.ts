import net from 'node:net';

/**
 * A free TCP port on 127.0.0.1: listen on port 0, read the port, close.
 * (Another process may take it before the caller listens; callers that
 * spawn a server on it retry or fail loudly.)
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once `GET <baseUrl>/healthz` answers 2xx; rejects with `message`
 * after `timeoutMs` of refusals and errors (the server is still starting).
 */
export async function waitForHealthz(baseUrl: string, timeoutMs = 20_000, message = `${baseUrl} did not answer /healthz within ${timeoutMs} ms`): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
