import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * One Node floor, said the same everywhere, and every installed package runs
 * on it: otherwise `pnpm install` warns a newcomer on the very Node the README
 * promises (cookie 2 and strip-json-comments 5.1 once wanted Node 22).
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => readFileSync(path.join(repo, file), 'utf8');

const range = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
const floor = semver.minVersion(range)!.version;

describe('the Node floor', () => {
  it('is what the README says it needs', () => {
    const [major, minor] = floor.split('.');
    expect(read('README.md')).toContain(`Node ≥ ${major}.${minor}`);
  });

  it('admits the Node running this test and the Docker image', () => {
    expect(semver.satisfies(process.version, range)).toBe(true);
    const images = [...read('Dockerfile').matchAll(/^FROM node:(\d+)/gm)].map((m) => Number(m[1]));
    expect(images.length).toBeGreaterThan(0);
    for (const major of images) expect(semver.satisfies(`${major}.99.0`, range), `node:${major}`).toBe(true);
  });

  it('is supported by every package in the lockfile, at the floor and on the Node running this', () => {
    const lock = parse(read('pnpm-lock.yaml')) as { packages: Record<string, { engines?: { node?: string } }> };
    const entries = Object.entries(lock.packages);
    expect(entries.length).toBeGreaterThan(100);
    const refusing = entries
      .filter(([, meta]) => meta.engines?.node !== undefined)
      .filter(([, meta]) => !semver.satisfies(floor, meta.engines!.node!) || !semver.satisfies(process.version, meta.engines!.node!))
      .map(([name, meta]) => `${name} wants ${meta.engines!.node}`);
    expect(refusing).toEqual([]);
  });
});
