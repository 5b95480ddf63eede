import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { CronExpression } from '../../shared/jobApi.ts';
import { JobValidationError } from '../jobs/errors.ts';

export const CronPreviewInput = z.object({
  cron: CronExpression,
  /** IANA time zone the cron is read in. Default UTC. */
  timezone: z.string().min(1).max(64).optional(),
  /** How many firings to list, 1–10. Default 3. */
  count: z.number().int().min(1).max(10).default(3),
});

/** The next firings of a cron after `from`, read as the broker reads it (`strict: false`). BAD_REQUEST on a cron or zone it cannot read. */
export function nextRuns(cron: string, options: { timezone?: string | null | undefined; count: number; from?: Date }): Date[] {
  try {
    const expression = CronExpressionParser.parse(cron, { strict: false, tz: options.timezone ?? 'UTC', currentDate: options.from ?? new Date() });
    return expression.take(options.count).map((date) => date.toDate());
  } catch (error) {
    throw new JobValidationError('Invalid cron', [{ path: ['cron'], message: error instanceof Error ? error.message : String(error) }]);
  }
}
