import { parse } from 'yaml';

/**
 * docker-compose.yml read the way Compose reads it, enough to check ours
 * without a Docker engine: YAML with `<<` merge keys, `${VAR:-default}`
 * interpolation, profiles, both forms of `environment` and `depends_on`.
 * Written from the Compose specification.
 */
export interface ComposeService {
  build?: string | { context: string; dockerfile?: string };
  image?: string;
  profiles?: string[];
  command?: string | string[];
  ports?: string[];
  env_file?: Array<string | { path: string; required?: boolean }>;
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  restart?: string;
  healthcheck?: { test: string | string[]; interval?: string; timeout?: string; retries?: number; start_period?: string };
  stop_grace_period?: string;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export class ComposeError extends Error {}

/** Parses the file as YAML; `merge: true` because Compose resolves `<<: *anchor` (YAML 1.1 merge keys). */
export function parseCompose(text: string): ComposeFile {
  return parse(text, { merge: true }) as ComposeFile;
}

type Env = Record<string, string | undefined>;

/**
 * Compose's variable substitution in one string: `$VAR`, `${VAR}`,
 * `${VAR:-default}` (unset or empty), `${VAR-default}` (unset),
 * `${VAR:?message}` / `${VAR?message}` (required), `${VAR:+other}` /
 * `${VAR+other}`, and `$$` for a literal `$`.
 */
export function interpolate(value: string, env: Env): string {
  return value.replace(/\$(?:\$|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*)|(.?))/g, (whole, braced: string | undefined, bare: string | undefined, stray: string | undefined) => {
    if (whole === '$$') return '$';
    if (bare !== undefined) return env[bare] ?? '';
    if (braced === undefined) throw new ComposeError(`invalid "$${stray ?? ''}" in "${value}" (write $$ for a literal $)`);
    const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])(.*))?$/s.exec(braced);
    if (!match) throw new ComposeError(`invalid "\${${braced}}" in "${value}"`);
    const [, name, colon, op, word = ''] = match;
    const current = env[name!];
    // With a colon the empty string counts as unset.
    const set = colon ? current !== undefined && current !== '' : current !== undefined;
    switch (op) {
      case '-':
        return set ? current! : word;
      case '?':
        if (!set) throw new ComposeError(`${name} is required: ${word || 'not set'}`);
        return current!;
      case '+':
        return set ? word : '';
      default:
        return current ?? '';
    }
  });
}

/** Every string in `value` interpolated, as Compose does before it reads the model. */
export function interpolateAll<T>(value: T, env: Env): T {
  if (typeof value === 'string') return interpolate(value, env) as T;
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, env)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)])) as T;
  }
  return value;
}

/** `environment` as a map, from either its map or its `KEY=value` list form. */
export function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((pair) => (pair.includes('=') ? [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] : [pair, ''])));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** `depends_on` as service → condition; the short list form means `service_started`. */
export function dependenciesOf(service: ComposeService): Record<string, string> {
  const deps = service.depends_on ?? [];
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.condition ?? 'service_started']));
}

/** The services `docker compose` considers with these profiles enabled: those without a profile, and those in one of them. */
export function servicesFor(file: ComposeFile, profiles: string[]): string[] {
  return Object.entries(file.services)
    .filter(([, s]) => !s.profiles || s.profiles.length === 0 || s.profiles.some((p) => profiles.includes(p)))
    .map(([name]) => name);
}

/** What `docker compose up NAME…` starts: the named services and, transitively, what they depend on. */
export function startedBy(file: ComposeFile, names: string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    const service = file.services[name];
    if (!service) throw new ComposeError(`no service "${name}"`);
    seen.add(name);
    for (const dep of Object.keys(dependenciesOf(service))) visit(dep);
  };
  names.forEach(visit);
  return [...seen].sort();
}
