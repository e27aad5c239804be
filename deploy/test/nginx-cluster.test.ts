import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NGINX, haveNginx, startLocalNginx, type LocalNginx } from './local-nginx.js';

/**
 * deploy/nginx/cluster.conf in a real nginx (Debian's), in front of three
 * small local HTTP servers standing in for chat-1…chat-3: requests spread over
 * all of them, headers arrive as the server needs them, an upgrade is
 * tunnelled, and a stopped replica costs no failed request. Only the
 * addresses change: the replicas' names become 127.0.0.1 ports and nginx
 * listens on a free loopback port.
 */
if (!haveNginx) console.warn(`skipping the nginx cluster test: no nginx at ${NGINX} (apt-get install nginx-light, or set NGINX_PATH)`);

const WAIT_MS = 5000;

interface Seen {
  headers: http.IncomingHttpHeaders;
  method: string;
}

/** A stand-in replica: answers with its name and remembers what it was sent. */
class Replica {
  readonly server: http.Server;
  readonly seen: Seen[] = [];
  private readonly tunnels = new Set<Duplex>();
  port = 0;

  constructor(readonly name: string) {
    this.server = http.createServer((req, res) => {
      this.seen.push({ headers: req.headers, method: req.method ?? '' });
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(name));
    });
    // Enough of a WebSocket handshake for a proxy: 101, then echo every byte.
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
      this.seen.push({ headers: req.headers, method: req.method ?? '' });
      this.tunnels.add(socket);
      socket.on('close', () => this.tunnels.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Node: ${name}\r\n\r\n`);
      socket.on('data', (chunk: Buffer) => socket.write(chunk));
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Gone at once, kept-alive and upgraded connections included, as a killed container. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const socket of this.tunnels) socket.destroy();
    await closed;
  }
}


/** One request through nginx on a fresh connection, bounded by WAIT_MS. */
function request(port: number, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers, agent: false, signal: AbortSignal.timeout(WAIT_MS) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe.skipIf(!haveNginx)('deploy/nginx/cluster.conf in a real nginx', () => {
  const replicas = ['chat-1', 'chat-2', 'chat-3'].map((name) => new Replica(name));
  let nginx: LocalNginx | undefined;
  let port = 0;

  beforeAll(async () => {
    await Promise.all(replicas.map((r) => r.start()));
    nginx = await startLocalNginx(new Map(replicas.map((r) => [r.name, r.port])));
    port = nginx.port;
  }, 20_000);

  afterAll(async () => {
    await nginx?.stop();
    await Promise.all(replicas.map((r) => (r.server.listening ? r.stop() : undefined)));
  });

  it('spreads requests over all three replicas', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await request(port);
      expect(res.status).toBe(200);
      answers.push(res.body);
    }
    expect(new Set(answers)).toEqual(new Set(['chat-1', 'chat-2', 'chat-3']));
  });

  it('passes the client’s Host with its port, X-Forwarded-For and -Proto, and no Connection: upgrade', async () => {
    const res = await request(port, { headers: { host: 'chat.example.org:8088', 'x-forwarded-for': '203.0.113.7' } });
    const replica = replicas.find((r) => r.name === res.body)!;
    const { headers } = replica.seen.at(-1)!;
    expect(headers.host).toBe('chat.example.org:8088');
    expect(headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    // No Connection header at all on a plain request, so the upstream connection can be kept alive.
    expect(headers.connection).toBeUndefined();
    expect(headers.upgrade).toBeUndefined();
  });

  it('tunnels a WebSocket upgrade on /ws to one replica, both ways', async () => {
    const { status, node, echo, seen } = await within(WAIT_MS, new Promise<{ status: number; node: string; echo: string; seen: Seen }>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port,
        path: '/ws',
        agent: false,
        signal: AbortSignal.timeout(WAIT_MS),
        headers: { host: `localhost:${port}`, connection: 'Upgrade', upgrade: 'websocket', origin: `http://localhost:${port}` },
      });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.on('upgrade', (res, socket) => {
        const node = String(res.headers['x-node']);
        socket.once('data', (chunk: Buffer) => {
          socket.destroy();
          resolve({ status: res.statusCode ?? 0, node, echo: chunk.toString(), seen: replicas.find((r) => r.name === node)!.seen.at(-1)! });
        });
        socket.write('ping through nginx');
      });
      req.end();
    }));
    expect(status).toBe(101);
    expect(['chat-1', 'chat-2', 'chat-3']).toContain(node);
    expect(echo).toBe('ping through nginx');
    expect(seen.headers).toMatchObject({ upgrade: 'websocket', connection: 'upgrade', host: `localhost:${port}`, origin: `http://localhost:${port}` });
  });

  it('answers every request, GET and POST, while a replica is down', async () => {
    const down = replicas[1]!;
    await down.stop();
    const answers: string[] = [];
    for (let i = 0; i < 9; i++) {
      const res = await request(port, i % 3 === 2 ? { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } } : {});
      expect(res.status, `request ${i}`).toBe(200);
      answers.push(res.body);
    }
    expect(new Set(answers)).toEqual(new Set(replicas.filter((r) => r !== down).map((r) => r.name)));
    expect(replicas.filter((r) => r !== down).flatMap((r) => r.seen.map((s) => s.method))).toContain('POST');
  });
});

/** The promise's outcome, or a rejection once `ms` have passed. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
