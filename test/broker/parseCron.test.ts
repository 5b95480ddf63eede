import { describe, expect, it } from 'vitest';
import { nextCronTime, parseCron } from '../../server/broker/schedules/parseCron.ts';

describe('cron', () => {
  it('parses five fields in UTC by default', () => {
    expect(parseCron('*/5 * * * *')).toEqual({ fields: '*/5 * * * *', tz: 'UTC' });
    const after = Date.parse('2026-03-01T10:02:30Z');
    expect(new Date(nextCronTime('*/5 * * * *', after)).toISOString()).toBe('2026-03-01T10:05:00.000Z');
  });

  it('returns the slot strictly after the given time', () => {
    const at = Date.parse('2026-03-01T10:05:00Z');
    expect(new Date(nextCronTime('*/5 * * * *', at)).toISOString()).toBe('2026-03-01T10:10:00.000Z');
  });

  it('honours CRON_TZ, daylight saving included', () => {
    expect(parseCron('CRON_TZ=America/New_York 0 4 * * *').tz).toBe('America/New_York');
    // 04:00 in New York is 09:00 UTC in winter (EST) and 08:00 UTC in summer (EDT).
    expect(new Date(nextCronTime('CRON_TZ=America/New_York 0 4 * * *', Date.parse('2026-01-15T00:00:00Z'))).toISOString()).toBe('2026-01-15T09:00:00.000Z');
    expect(new Date(nextCronTime('CRON_TZ=America/New_York 0 4 * * *', Date.parse('2026-07-15T00:00:00Z'))).toISOString()).toBe('2026-07-15T08:00:00.000Z');
  });

  it.each(['* * * *', '* * * * * *', '61 * * * *', 'CRON_TZ=Nowhere/Land * * * * *', 'every minute', ''])('rejects %j', (cron) => {
    expect(() => parseCron(cron)).toThrow(/invalid cron/);
  });
});
