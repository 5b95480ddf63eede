import { CronExpressionParser } from 'cron-parser';
import { JobValidationError } from './errors.ts';

const MINUTE_MS = 60_000;

/**
 * The shortest time between two firings of a five-field cron, in ms. Read from the parsed
 * minute and hour sets rather than by sampling firings (slow, and a burst can lie beyond any
 * sample): gaps within an hour, and across an hour boundary when two adjacent hours both fire
 * (23 → 0 counted too, so the bound errs on the strict side). A cron firing once a day or less
 * answers `Infinity`. Throws `JobValidationError` on a cron it cannot read.
 */
export function shortestCronInterval(cron: string): number {
  let fields;
  try {
    // `strict: false`, as the broker reads crons (day-of-month and day-of-week may both be set).
    ({ fields } = CronExpressionParser.parse(cron, { strict: false }));
  } catch (error) {
    throw new JobValidationError('Invalid cron', [{ path: ['cron'], message: error instanceof Error ? error.message : String(error) }]);
  }
  const minutes = [...fields.minute.values].sort((a, b) => a - b);
  const hours = new Set<number>(fields.hour.values);
  let gap = Infinity;
  for (let i = 1; i < minutes.length; i++) gap = Math.min(gap, minutes[i]! - minutes[i - 1]!);
  if ([...hours].some((hour) => hours.has((hour + 1) % 24))) gap = Math.min(gap, 60 - minutes.at(-1)! + minutes[0]!);
  return gap * MINUTE_MS;
}

/** Refuses a cron that may fire more often than once per `minIntervalMs` (BAD_REQUEST, naming the bound). */
export function checkCronInterval(cron: string, minIntervalMs: number | undefined): void {
  if (!minIntervalMs) return;
  const shortest = shortestCronInterval(cron);
  if (shortest >= minIntervalMs) return;
  const every = (ms: number) => `${ms / MINUTE_MS} minute${ms === MINUTE_MS ? '' : 's'}`;
  throw new JobValidationError(`This schedule may fire at most once every ${every(minIntervalMs)}`, [
    { path: ['cron'], message: `"${cron}" fires every ${every(shortest)}; a schedule may fire at most once every ${every(minIntervalMs)}` },
  ]);
}
