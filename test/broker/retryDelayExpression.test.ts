import { describe, expect, it } from 'vitest';
import { defaultBackoffMs, retryAfterMs, retryDelayMs } from '../../server/broker/delivery/backoff.ts';
import { evaluateRetryDelay, parseRetryDelay } from '../../server/broker/delivery/retryDelayExpression.ts';
import { parseDuration } from '../../server/broker/publish/parseDuration.ts';

describe('retry-delay expressions', () => {
  it.each([
    ['1000', 0, 1000],
    ['pow(2, retried) * 1000', 3, 8000],
    ['1000 * (1 + retried)', 2, 3000],
    ['-retried + 10', 4, 6],
    ['max(100, min(5000, exp(retried) * 10))', 5, 1484.131591025766],
    ['sqrt(16) + abs(-2) + floor(1.7) + ceil(1.2) + round(2.5)', 0, 12],
    ['10 / 4 - 1', 0, 1.5],
    [' 2 *  3 ', 0, 6],
  ])('%s with retried=%i is %d', (expression, retried, expected) => {
    expect(evaluateRetryDelay(expression, retried)).toBeCloseTo(expected, 6);
  });

  it.each([
    'process.exit()',
    'require("fs")',
    'constructor.constructor("return process")()',
    'retried; 1',
    '__proto__',
    'pow(2)',
    'max(1, 2, 3)',
    '1 +',
    '(1',
    '1)',
    'retried ** 2',
    'this',
    '`1`',
    '',
    'x'.repeat(600),
  ])('rejects %j', (expression) => {
    expect(() => parseRetryDelay(expression)).toThrow();
  });

  it('never evaluates code: a hostile string is a syntax error', () => {
    expect(() => evaluateRetryDelay('globalThis.process.exit(1)', 0)).toThrow(/unknown identifier|unexpected/);
  });

  it('clamps to [0, 1 day] and falls back to the default backoff when not finite', () => {
    expect(retryDelayMs('-5000', 0)).toBe(0);
    expect(retryDelayMs('pow(10, 12)', 0)).toBe(86_400_000);
    expect(retryDelayMs('1 / 0 - 1 / 0', 0)).toBe(defaultBackoffMs(0));
  });

  it('uses QStash’s default backoff min(1 day, e^(2.5n)) seconds', () => {
    expect(defaultBackoffMs(0)).toBe(Math.round(Math.exp(2.5) * 1000));
    expect(defaultBackoffMs(1)).toBe(Math.round(Math.exp(5) * 1000));
    expect(defaultBackoffMs(10)).toBe(86_400_000);
  });
});

describe('durations and Retry-After', () => {
  it('parses QStash and Go durations', () => {
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('1d10h30m')).toBe(86_400_000 + 36_000_000 + 1_800_000);
    expect(parseDuration('6m5s')).toBe(365_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('300ms')).toBe(300);
    expect(parseDuration('42')).toBe(42_000);
    expect(parseDuration('5 parsecs')).toBeUndefined();
    expect(parseDuration('10x')).toBeUndefined();
  });

  it('reads Retry-After as seconds, HTTP date or Go duration, capped at one day', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs({ 'Retry-After': ['3'] }, now)).toBe(3000);
    expect(retryAfterMs({ 'retry-after': ['Thu, 01 Jan 2026 00:00:10 GMT'] }, now)).toBe(10_000);
    expect(retryAfterMs({ 'X-Ratelimit-Reset-Requests': ['1m30s'] }, now)).toBe(90_000);
    expect(retryAfterMs({ 'Retry-After': ['172800'] }, now)).toBeUndefined();
    expect(retryAfterMs({}, now)).toBeUndefined();
  });
});
