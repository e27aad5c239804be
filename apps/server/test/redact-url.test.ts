import { describe, expect, it } from 'vitest';
import { redactUrl } from '../src/redact-url.js';

describe('redactUrl', () => {
  it('masks the password of the user info and keeps the rest', () => {
    expect(redactUrl('postgres://chat:s3cret@db.example:5432/chat?sslmode=require')).toBe('postgres://chat:***@db.example:5432/chat?sslmode=require');
    expect(redactUrl('postgresql://chat:p%40ss@db/chat')).toBe('postgresql://chat:***@db/chat');
  });

  it('leaves a URL without a password as it is', () => {
    expect(redactUrl('postgres://postgres@127.0.0.1:5432/test')).toBe('postgres://postgres@127.0.0.1:5432/test');
    expect(redactUrl('postgres:///chat')).toBe('postgres:///chat');
  });

  it('masks a Unix-socket URL, which has no host', () => {
    expect(redactUrl('postgres://chat:s3cret@/chat?host=/run/postgresql')).toBe('postgres://chat:***@/chat?host=/run/postgresql');
  });

  it('masks a password holding a raw @, and one given in the query', () => {
    expect(redactUrl('postgres://chat:a@b@db/chat')).toBe('postgres://chat:***@db/chat');
    expect(redactUrl('postgres://db/chat?user=chat&password=s3cret&sslmode=require')).toBe('postgres://db/chat?user=chat&password=***&sslmode=require');
  });

  it('masks a Redis password the same way', () => {
    expect(redactUrl('redis://:s3cret@redis:6379/0')).toBe('redis://:***@redis:6379/0');
    expect(redactUrl('rediss://default:s3cret@cache.example:6380')).toBe('rediss://default:***@cache.example:6380');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
