import { and, eq, gte, isNull, lt, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { ListJobsInput, NUL_MESSAGE } from '../../shared/jobApi.ts';
import { jobExecutions } from '../db/schema.ts';

/** An organization id, or null for the jobs that belong to none (Stripe events, the daily cleanup, server code). */
export const OrganizationFilter = z.number().int().min(1).max(2_147_483_647).nullable();

/**
 * Which jobs a list, a bulk action or the failure groups look at: `jobs.list`'s filter plus
 * `errorText` (a case-insensitive substring of the stored error's name or message) and, for
 * operators only, `organizationId`.
 */
export const JobFilter = ListJobsInput.pick({ type: true, status: true, userId: true, createdAfter: true, createdBefore: true }).extend({
  errorText: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .refine((text) => !text.includes('\u0000'), NUL_MESSAGE)
    .optional(),
  organizationId: OrganizationFilter.optional(),
});
export type JobFilter = z.output<typeof JobFilter>;

const t = jobExecutions;

/** `%` and `_` in the caller's text match themselves. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The filter's conditions on job_executions (the caller's scope is added separately). */
export function jobFilterConditions(filter: Omit<JobFilter, 'status'> & { status?: JobFilter['status'] }): (SQL | undefined)[] {
  return [
    filter.type ? eq(t.type, filter.type) : undefined,
    filter.status ? eq(t.status, filter.status) : undefined,
    filter.userId ? eq(t.userId, filter.userId) : undefined,
    filter.createdAfter ? gte(t.createdAt, filter.createdAfter) : undefined,
    filter.createdBefore ? lt(t.createdAt, filter.createdBefore) : undefined,
    filter.errorText ? sql`(${t.error}->>'name') || ': ' || (${t.error}->>'message') ILIKE ${likePattern(filter.errorText)}` : undefined,
    filter.organizationId === undefined ? undefined : filter.organizationId === null ? isNull(t.organizationId) : eq(t.organizationId, filter.organizationId),
  ];
}

export const allOf = (conditions: (SQL | undefined)[]) => and(...conditions);
