import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DockerfileError, envOf, parseDockerfile, stages } from '../src/dockerfile.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dockerfile = readFileSync(path.join(repo, 'Dockerfile'), 'utf8');

describe('parseDockerfile', () => {
  it('joins continued lines, reads flags and the exec form, and skips comments', () => {
    const parsed = parseDockerfile(
      ['# a comment', 'FROM node:22 AS build', 'RUN echo a \\', '  # inside', '    && echo b', 'COPY --from=build --chown=node:node /out /app', 'CMD ["node", "x.js"]'].join('\n'),
    );
    expect(parsed.map((i) => i.keyword)).toEqual(['FROM', 'RUN', 'COPY', 'CMD']);
    expect(parsed[1]!.raw).toBe('echo a && echo b');
    expect(parsed[2]!.flags).toEqual({ from: 'build', chown: 'node:node' });
    expect(parsed[2]!.args).toEqual(['/out', '/app']);
    expect(parsed[3]).toMatchObject({ json: true, args: ['node', 'x.js'] });
  });

  it('refuses malformed input with the line number', () => {
    expect(() => parseDockerfile('FROM a\nRUN x \\')).toThrow(DockerfileError);
    expect(() => parseDockerfile('FROM a\nCMD ["node", 1]')).toThrow(/line 2/);
    expect(() => stages(parseDockerfile('RUN x'))).toThrow(/before the first FROM/);
  });

  it('reads ENV in both forms', () => {
    const [a, b] = parseDockerfile('ENV A=1 B="two"\nENV C three four');
    expect(envOf(a!)).toEqual({ A: '1', B: 'two' });
    expect(envOf(b!)).toEqual({ C: 'three four' });
  });
});

describe('the Dockerfile', () => {
  const parsed = stages(parseDockerfile(dockerfile));
  const build = parsed.find((s) => s.name === 'build');
  const final = parsed[parsed.length - 1]!;
  const find = (stage: typeof final, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);

  it('is multi-stage: a build stage and a final stage on a current LTS Node', () => {
    expect(parsed.length).toBeGreaterThanOrEqual(2);
    expect(build).toBeDefined();
    expect(final.image).toMatch(/^node:(22|24)(\.|-|$)/);
    expect(build!.image).toMatch(/^node:(22|24)(\.|-|$)/);
  });

  it('builds the whole monorepo, including the native addon, and keeps only production dependencies', () => {
    const runs = find(build!, 'RUN').map((r) => r.raw);
    expect(runs.some((r) => /\bg\+\+/.test(r) && /\bpython3\b/.test(r))).toBe(true);
    expect(runs).toContain('pnpm install --frozen-lockfile');
    expect(runs).toContain('pnpm build');
    expect(runs.some((r) => /pnpm --filter @chat\/server deploy --prod \/out/.test(r) && /apps\/web\/dist/.test(r))).toBe(true);
  });

  it('copies only paths that exist, and the final stage copies from the build stage', () => {
    for (const stage of parsed) {
      for (const copy of find(stage, 'COPY')) {
        if (copy.flags.from) {
          expect(parsed.map((s) => s.name)).toContain(copy.flags.from);
          continue;
        }
        for (const source of copy.args.slice(0, -1)) expect(existsSync(path.join(repo, source)), source).toBe(true);
      }
    }
    expect(find(final, 'COPY').some((c) => c.flags.from === 'build')).toBe(true);
  });

  it('runs as a non-root user, with the data volume, port, health check and start command the compose file expects', () => {
    const user = find(final, 'USER').at(-1)?.args[0];
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const env = Object.assign({}, ...find(final, 'ENV').map(envOf)) as Record<string, string>;
    expect(env).toMatchObject({ PORT: '8080', HOST: '0.0.0.0', DATABASE_PATH: '/data/chat.db', NODE_ENV: 'production' });
    expect(find(final, 'VOLUME')[0]!.args).toEqual(['/data']);
    expect(find(final, 'EXPOSE')[0]!.args).toEqual(['8080']);
    const health = find(final, 'HEALTHCHECK')[0]!;
    expect(health.raw).toMatch(/127\.0\.0\.1:8080\/healthz/);
    expect(find(final, 'STOPSIGNAL')[0]?.args).toEqual(['SIGTERM']);
    expect(find(final, 'CMD')[0]).toMatchObject({ json: true, args: ['node', 'dist/server.js'] });
    // The server's package ships dist/server.js (what CMD runs from /app).
    expect(JSON.parse(readFileSync(path.join(repo, 'apps/server/package.json'), 'utf8')).files).toContain('dist');
  });

  it('has a .dockerignore that keeps local builds and dependencies out of the context', () => {
    const ignore = readFileSync(path.join(repo, '.dockerignore'), 'utf8').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git', '.env']));
  });
});
