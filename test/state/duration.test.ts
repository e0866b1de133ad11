import { describe, expect, it } from 'vitest';
import { formatExactDuration, parseDuration } from '../../src/state/duration.js';

describe('duration', () => {
  it('converts durations in ms, s, m, h, d and w to milliseconds', () => {
    expect(['250ms', '90s', '15m', '6h', '30d', '2w'].map(parseDuration)).toEqual([
      250, 90_000, 900_000, 21_600_000, 2_592_000_000, 1_209_600_000,
    ]);
  });

  it('adds up several units when they are joined', () => {
    expect(parseDuration('1d12h')).toBe(36 * 3_600_000);
    expect(parseDuration('1h30m')).toBe(90 * 60_000);
  });

  it('returns undefined when the text is not a duration', () => {
    for (const text of ['', '30', 'd', '30x', '1.5h', '-1d', '30 d', 'h1']) {
      expect(parseDuration(text), text).toBeUndefined();
    }
  });

  it('renders a duration in the largest exact unit', () => {
    expect(formatExactDuration(30 * 86_400_000)).toBe('30d');
    expect(formatExactDuration(90_000)).toBe('90s');
    expect(formatExactDuration(1_500)).toBe('1500ms');
  });
});
