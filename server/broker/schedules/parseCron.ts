import { CronExpressionParser } from 'cron-parser';
import { badRequest } from '../errors.ts';

export interface ParsedCron {
  /** The five cron fields. */
  fields: string;
  /** IANA zone from a `CRON_TZ=` prefix; UTC otherwise. */
  tz: string;
}

/** Parses QStash's cron: five fields, optionally prefixed with `CRON_TZ=<IANA zone> `. */
export function parseCron(text: string): ParsedCron {
  let rest = text.trim();
  let tz = 'UTC';
  const prefix = /^(?:CRON_TZ|TZ)=(\S+)\s+/.exec(rest);
  if (prefix) {
    tz = prefix[1] as string; // the group always matches when the regex does
    rest = rest.slice(prefix[0].length);
    if (!isValidZone(tz)) throw badRequest(`invalid cron: unknown time zone ${tz}`);
  }
  const fields = rest.split(/\s+/).filter((f) => f.length > 0);
  if (fields.length !== 5) throw badRequest(`invalid cron: expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`);
  try {
    CronExpressionParser.parse(fields.join(' '), { tz, strict: false });
  } catch (error) {
    throw badRequest(`invalid cron: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { fields: fields.join(' '), tz };
}

/** The first slot strictly after `afterMs`. */
export function nextCronTime(cron: string, afterMs: number): number {
  const { fields, tz } = parseCron(cron);
  return CronExpressionParser.parse(fields, { tz, currentDate: new Date(afterMs) }).next().getTime();
}

function isValidZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
