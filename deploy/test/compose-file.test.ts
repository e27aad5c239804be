import { describe, expect, it } from 'vitest';
import { ComposeError, dependenciesOf, environmentOf, interpolate, interpolateAll, parseCompose, servicesFor, startedBy } from '../src/compose-file.js';

describe('interpolate', () => {
  it('substitutes $VAR and ${VAR}, and turns $$ into $', () => {
    expect(interpolate('a $X ${Y} $$Z', { X: '1', Y: '2' })).toBe('a 1 2 $Z');
    expect(interpolate('${MISSING}', {})).toBe('');
  });

  it('uses a :- default for an unset or empty variable, a - default only for an unset one', () => {
    expect(interpolate('${P:-8088}', {})).toBe('8088');
    expect(interpolate('${P:-8088}', { P: '' })).toBe('8088');
    expect(interpolate('${P:-8088}', { P: '9000' })).toBe('9000');
    expect(interpolate('${P-8088}', { P: '' })).toBe('');
    expect(interpolate('${P-8088}', {})).toBe('8088');
    expect(interpolate('postgres://u:${PW:-chat}@db/x', { PW: 's3cret' })).toBe('postgres://u:s3cret@db/x');
  });

  it('fails on a required variable that is missing, and on malformed references', () => {
    expect(() => interpolate('${TOKEN:?set TOKEN in .env}', { TOKEN: '' })).toThrow(/TOKEN is required: set TOKEN in \.env/);
    expect(interpolate('${TOKEN?}', { TOKEN: '' })).toBe('');
    expect(interpolate('${A:+on}/${B:+on}', { A: 'x' })).toBe('on/');
    expect(() => interpolate('${UNCLOSED', {})).toThrow(ComposeError);
    expect(() => interpolate('${1BAD}', {})).toThrow(ComposeError);
    expect(() => interpolate('costs $5', {})).toThrow(ComposeError);
  });

  it('walks nested maps and lists', () => {
    expect(interpolateAll({ ports: ['${P:-1}:80'], n: 3, env: { A: '$A' } }, { A: 'a' })).toEqual({ ports: ['1:80'], n: 3, env: { A: 'a' } });
  });
});

describe('parseCompose and the service helpers', () => {
  const file = parseCompose(
    [
      'x-node: &node',
      '  image: app',
      '  profiles: [cluster]',
      '  environment: &env',
      '    PORT: 8080',
      '  depends_on: [db]',
      'services:',
      '  web:',
      '    image: app',
      '  node-1:',
      '    <<: *node',
      '    environment:',
      '      <<: *env',
      '      NODE_ID: node-1',
      '  db:',
      '    image: postgres',
      '    profiles: [cluster]',
      '    environment: ["A=1", "B"]',
      '  lb:',
      '    image: nginx',
      '    profiles: [cluster]',
      '    depends_on:',
      '      node-1: { condition: service_healthy }',
    ].join('\n'),
  );

  it('resolves << merge keys, the inner map overriding the merged one', () => {
    const node = file.services['node-1']!;
    expect(node.image).toBe('app');
    expect(node.profiles).toEqual(['cluster']);
    expect(environmentOf(node)).toEqual({ PORT: '8080', NODE_ID: 'node-1' });
  });

  it('reads environment and depends_on in both their forms', () => {
    expect(environmentOf(file.services.db!)).toEqual({ A: '1', B: '' });
    expect(dependenciesOf(file.services['node-1']!)).toEqual({ db: 'service_started' });
    expect(dependenciesOf(file.services.lb!)).toEqual({ 'node-1': 'service_healthy' });
  });

  it('tells which services a profile enables and what `up NAME` starts', () => {
    expect(servicesFor(file, [])).toEqual(['web']);
    expect(servicesFor(file, ['cluster'])).toEqual(['web', 'node-1', 'db', 'lb']);
    expect(startedBy(file, ['lb'])).toEqual(['db', 'lb', 'node-1']);
    expect(() => startedBy(file, ['nope'])).toThrow(/no service "nope"/);
  });
});
