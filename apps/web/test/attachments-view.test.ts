import { describe, expect, test } from 'vitest';
import { formatSize } from '../src/attachments-view.js';

describe('formatSize', () => {
  test('says bytes below a kilobyte, one decimal below ten units, whole numbers above', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(1023)).toBe('1023 B');
    expect(formatSize(1536)).toBe('1.5 KB');
    expect(formatSize(200 * 1024)).toBe('200 KB');
    expect(formatSize(2 * 1024 * 1024)).toBe('2.0 MB');
    expect(formatSize(5 * 1024 ** 4)).toBe('5120 GB');
  });
});
