import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  type ComposeFile,
  type ComposeService,
  dependenciesOf,
  environmentOf,
  interpolateAll,
  parseCompose,
  servicesFor,
  startedBy,
} from '../src/compose-file.js';
import { type Directive, directives, effective, parseNginxConf, seconds } from '../src/nginx-conf.js';

/**
 * The `cluster` profile of docker-compose.yml and deploy/nginx/cluster.conf,
 * checked against each other and against what the server expects (no Docker
 * engine runs here; nginx-cluster.test.ts runs the nginx part for real).
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const composeText = readFileSync(path.join(repo, 'docker-compose.yml'), 'utf8');
const raw = parseCompose(composeText);
/** The file as Compose sees it with nothing set in the environment or .env. */
const compose = interpolateAll(raw, {});
const service = (name: string): ComposeService => {
  const found = compose.services[name];
  if (!found) throw new Error(`no service ${name} in docker-compose.yml`);
  return found;
};
const cluster = servicesFor(compose, ['cluster']).filter((name) => !servicesFor(compose, []).includes(name));
const replicas = cluster.filter((name) => /^chat-\d+$/.test(name));
const healthTest = (s: ComposeService) => [s.healthcheck?.test ?? []].flat().join(' ');

const nginxPath = (s: ComposeService) => {
  const mount = (s.volumes ?? []).find((v) => v.split(':')[1] === '/etc/nginx/conf.d/default.conf');
  return mount?.split(':');
};
const conf = parseNginxConf(readFileSync(path.join(repo, 'deploy/nginx/cluster.conf'), 'utf8'));
const servers = directives(conf, 'server');
const locations = (server: Directive) => directives(server.block!, 'location');
/** The upstream group a proxy_pass names (`http://chat` → the `upstream chat` block). */
const upstreamOf = (proxyPass: string) => {
  const name = /^http:\/\/([^/:]+)$/.exec(proxyPass)?.[1];
  return directives(conf, 'upstream').find((u) => u.args[0] === name);
};

describe('the cluster profile in docker-compose.yml', () => {
  it('puts nginx, PostgreSQL, Redis and the replicas in the cluster profile only', () => {
    expect([...cluster].sort()).toEqual(['chat-1', 'chat-2', 'chat-3', 'nginx', 'postgres', 'redis']);
    for (const name of cluster) expect(service(name).profiles, name).toEqual(['cluster']);
  });

  it('runs three replicas of the chat image, defined once, each with its own NODE_ID', () => {
    expect(replicas).toEqual(['chat-1', 'chat-2', 'chat-3']);
    // Written once: each replica merges the shared definition instead of repeating it.
    const unmerged = (parse(composeText) as ComposeFile).services;
    for (const name of replicas) expect(Object.keys(unmerged[name]!), name).toContain('<<');
    const ids = replicas.map((name) => environmentOf(service(name)).NODE_ID);
    expect(new Set(ids).size).toBe(replicas.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9._-]{1,64}$/); // what the server accepts
    for (const name of replicas) {
      const s = service(name);
      expect(s.image).toBe(service('chat').image);
      expect(s.build).toEqual(service('chat').build);
      expect(s.ports, `${name} publishes no port`).toBeUndefined();
      expect(environmentOf(s)).toMatchObject({ HOST: '0.0.0.0', PORT: '8080' });
      expect((s.env_file ?? []).map((f) => (typeof f === 'string' ? f : f.path))).toContain('.env');
      expect(healthTest(s)).toMatch(/127\.0\.0\.1:8080\/healthz/);
      expect(s.restart).toBe('unless-stopped');
      expect(Number.parseInt(s.stop_grace_period ?? '10', 10)).toBeGreaterThan(10);
    }
  });

  it('points DATABASE_URL at the postgres service with its user, password and database', () => {
    for (const env of [{}, { POSTGRES_PASSWORD: 's3cretPassw0rd' }]) {
      const seen = interpolateAll(raw, env);
      const postgres = seen.services.postgres!;
      const pg = environmentOf(postgres);
      for (const name of replicas) {
        const url = new URL(environmentOf(seen.services[name]!).DATABASE_URL!);
        expect(url.protocol).toBe('postgres:');
        expect(url.hostname).toBe('postgres');
        expect(url.port).toBe('5432');
        expect(url.username).toBe(pg.POSTGRES_USER);
        expect(url.password).toBe(pg.POSTGRES_PASSWORD);
        expect(url.pathname).toBe(`/${pg.POSTGRES_DB}`);
      }
      if ('POSTGRES_PASSWORD' in env) expect(pg.POSTGRES_PASSWORD).toBe(env.POSTGRES_PASSWORD);
      else expect(pg.POSTGRES_PASSWORD).not.toBe('');
    }
  });

  it('gives every node the same named volume as UPLOAD_DIR, so a file uploaded through one is served by all', () => {
    const mounts = replicas.map((name) => {
      const node = service(name);
      const dir = environmentOf(node).UPLOAD_DIR;
      expect(dir, name).toMatch(/^\//);
      const mount = (node.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target === dir);
      expect(mount, `${name} mounts ${dir}`).toBeDefined();
      return mount![0];
    });
    expect(new Set(mounts).size).toBe(1);
    expect(Object.keys(compose.volumes ?? {})).toContain(mounts[0]);
  });

  it('keeps PostgreSQL on a named volume and checks it with pg_isready', () => {
    const postgres = service('postgres');
    expect(postgres.image).toBe('postgres:17-alpine');
    const [volume, target] = (postgres.volumes ?? [])[0]!.split(':');
    expect(target).toBe('/var/lib/postgresql/data');
    expect(Object.keys(compose.volumes ?? {})).toContain(volume);
    expect(healthTest(postgres)).toMatch(/^CMD pg_isready\b/);
    expect(postgres.ports).toBeUndefined();
  });

  it('points REDIS_URL at the redis service, checked with redis-cli ping', () => {
    for (const name of replicas) {
      const url = new URL(environmentOf(service(name)).REDIS_URL!);
      expect(url.protocol).toBe('redis:');
      expect(url.hostname).toBe('redis');
      expect(url.port === '' ? '6379' : url.port).toBe('6379');
    }
    expect(service('redis').image).toBe('redis:7-alpine');
    expect(healthTest(service('redis'))).toBe('CMD redis-cli ping');
    expect(service('redis').ports).toBeUndefined();
  });

  it('starts a replica only once the database and the broker it names are healthy', () => {
    for (const name of replicas) {
      const env = environmentOf(service(name));
      const deps = dependenciesOf(service(name));
      for (const url of [env.DATABASE_URL!, env.REDIS_URL!]) {
        const host = new URL(url).hostname;
        expect(deps[host], `${name} → ${host}`).toBe('service_healthy');
        expect(service(host).healthcheck, `${host} has a health check`).toBeDefined();
      }
    }
  });

  it('publishes only nginx, on CLUSTER_PORT (8088 unless set), beside the single node on 8080', () => {
    expect(cluster.filter((name) => service(name).ports)).toEqual(['nginx']);
    expect(service('nginx').image).toBe('nginx:1.27-alpine');
    expect(service('nginx').ports).toEqual(['8088:80']);
    expect(interpolateAll(raw, { CLUSTER_PORT: '9000' }).services.nginx!.ports).toEqual(['9000:80']);
    const [listen] = directives(servers[0]!.block!, 'listen');
    expect(listen!.args).toEqual(['80']); // the container port published above
    expect(service('chat').ports).toEqual(['8080:8080']);
  });

  it('mounts deploy/nginx/cluster.conf read-only as the image default server', () => {
    const [source, target, mode] = nginxPath(service('nginx'))!;
    expect(target).toBe('/etc/nginx/conf.d/default.conf');
    expect(mode).toBe('ro');
    expect(path.normalize(source!)).toBe(path.normalize('./deploy/nginx/cluster.conf'));
    expect(existsSync(path.join(repo, source!))).toBe(true);
  });

  it('brings up exactly the cluster with `up nginx`, and not the single node', () => {
    expect(startedBy(compose, ['nginx'])).toEqual([...cluster].sort());
    expect(Object.keys(dependenciesOf(service('nginx'))).sort()).toEqual(replicas);
  });

  it('needs no variable set: every ${…} in the file has a default', () => {
    const references: string[] = [];
    const walk = (value: unknown): void => {
      if (typeof value === 'string') references.push(...(value.match(/\$\{[^}]*\}/g) ?? []));
      else if (value && typeof value === 'object') Object.values(value).forEach(walk);
    };
    walk(raw);
    expect(references).toEqual(expect.arrayContaining(['${POSTGRES_PASSWORD:-chat}', '${CLUSTER_PORT:-8088}']));
    for (const reference of references) expect(reference).toMatch(/^\$\{[A-Za-z_]\w*:-[^}]+\}$/);
  });
});

describe('deploy/nginx/cluster.conf', () => {
  const server = servers[0]!;
  const proxied = locations(server).filter((l) => effective([conf, server.block!, l.block!], 'proxy_pass').length > 0);

  it('is one server whose every location proxies to the same upstream group', () => {
    expect(servers).toHaveLength(1);
    expect(proxied.map((l) => l.args.join(' ')).sort()).toEqual(['/', '= /ws']);
    const targets = proxied.map((l) => directives(l.block!, 'proxy_pass')[0]!.args[0]!);
    expect(new Set(targets).size).toBe(1);
    expect(upstreamOf(targets[0]!)).toBeDefined();
  });

  it('balances over exactly the replica services, at the port they listen on, with passive failover', () => {
    const upstream = upstreamOf(directives(proxied[0]!.block!, 'proxy_pass')[0]!.args[0]!)!;
    const members = directives(upstream.block!, 'server');
    const hosts = members.map((m) => m.args[0]!);
    expect(hosts).toEqual(replicas.map((name) => `${name}:${environmentOf(service(name)).PORT}`));
    for (const member of members) {
      expect(member.args).toEqual(expect.arrayContaining(['resolve', expect.stringMatching(/^max_fails=[1-9]\d*$/), expect.stringMatching(/^fail_timeout=\d+s$/)]));
    }
    expect(directives(upstream.block!, 'least_conn')).toHaveLength(1);
    // `resolve` needs a shared zone and a resolver: Docker's embedded DNS.
    expect(directives(upstream.block!, 'zone')).toHaveLength(1);
    expect(directives(conf, 'resolver')[0]!.args[0]).toBe('127.0.0.11');
  });

  it('forwards Host unchanged, the client address and scheme, and the upgrade, in every location', () => {
    const [map] = directives(conf, 'map');
    expect(map!.args).toEqual(['$http_upgrade', '$connection_upgrade']);
    expect(map!.block!.map((d) => [d.name, ...d.args])).toEqual([
      ['default', 'upgrade'],
      ['', ''],
    ]);
    for (const location of proxied) {
      const levels = [conf, server.block!, location.block!];
      const headers = Object.fromEntries(effective(levels, 'proxy_set_header').map((d) => [d.args[0]!.toLowerCase(), d.args[1]]));
      expect(headers, location.args.join(' ')).toEqual({
        host: '$http_host',
        upgrade: '$http_upgrade',
        connection: '$connection_upgrade',
        'x-forwarded-for': '$proxy_add_x_forwarded_for',
        'x-forwarded-proto': '$scheme',
      });
      expect(effective(levels, 'proxy_http_version')[0]?.args).toEqual(['1.1']);
      const next = effective(levels, 'proxy_next_upstream')[0]?.args ?? [];
      expect(next).toEqual(expect.arrayContaining(['error', 'timeout']));
      expect(next).not.toContain('non_idempotent'); // a POST is never sent to two nodes
    }
  });

  it('keeps an idle WebSocket open longer than two heartbeat periods, unbuffered', () => {
    // The README's default, so the two cannot drift apart unnoticed.
    const row = /\|\s*`WS_IDLE_TIMEOUT_MS`\s*\|\s*`(\d+)`/.exec(readFileSync(path.join(repo, 'README.md'), 'utf8'));
    const heartbeat = Number(row![1]) / 1000;
    const ws = proxied.find((l) => l.args.join(' ') === '= /ws')!;
    const levels = [conf, server.block!, ws.block!];
    for (const name of ['proxy_read_timeout', 'proxy_send_timeout']) {
      expect(seconds(effective(levels, name)[0]!.args[0]!), name).toBeGreaterThan(2 * heartbeat);
    }
    expect(effective(levels, 'proxy_buffering')[0]?.args).toEqual(['off']);
  });
});

describe('docs/operations.md', () => {
  it('gives the command and the port the compose file uses', () => {
    const docs = readFileSync(path.join(repo, 'docs/operations.md'), 'utf8');
    const section = docs.slice(docs.indexOf('## Cluster'));
    expect(section).toContain('docker compose --profile cluster up -d nginx');
    const [host] = service('nginx').ports![0]!.split(':');
    expect(section).toContain(`http://localhost:${host}`);
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'NODE_ID', 'CLUSTER_PORT', 'POSTGRES_PASSWORD']) expect(section).toContain(name);
  });
});
