import { and, inArray, isNotNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { JobType } from '../../shared/catalogue.ts';
import { queryRows, type DbOrTx } from '../db/database.ts';
import { jobExecutions } from '../db/schema.ts';
import { inScope } from '../jobs/getJob.ts';
import type { Scope } from '../jobs/scope.ts';
import { JobFilter, jobFilterConditions } from './jobFilter.ts';

export const FailureGroupsInput = JobFilter.pick({ type: true, createdAfter: true, createdBefore: true, organizationId: true }).extend({
  /** Most groups returned, largest first, 1–200. Default 50. */
  limit: z.number().int().min(1).max(200).default(50),
});

export interface FailureGroup {
  type: JobType;
  /** The error's name, e.g. `TypeError`, `JobTimeoutError`. */
  errorName: string;
  /** The message with what varies between occurrences replaced: `<uuid>`, `<value>` (quoted), `<n>` (numbers). */
  errorMessage: string;
  count: number;
  failed: number;
  retrying: number;
  /** When a job of the group last changed (its error was recorded): the oldest and the newest. */
  firstSeen: Date;
  lastSeen: Date;
  /** The most recent job of the group. */
  sampleJobId: string;
}

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const QUOTED = `"[^"]*"|'[^']*'|\`[^\`]*\``;
const NUMBER = '[0-9]+([.][0-9]+)?';

/**
 * The failed and retrying jobs grouped by type and error (name and normalized message): what
 * is broken and why, largest group first. Reads only failed and retrying rows (status index).
 */
export async function listFailureGroups(db: DbOrTx, scope: Scope, input: z.output<typeof FailureGroupsInput>): Promise<FailureGroup[]> {
  const t = jobExecutions;
  const where = and(inScope(scope), inArray(t.status, ['failed', 'retrying']), isNotNull(t.error), ...jobFilterConditions(input));
  const normalized = sql`regexp_replace(regexp_replace(regexp_replace(coalesce(${t.error}->>'message', ''), ${UUID}, '<uuid>', 'g'), ${QUOTED}, '<value>', 'g'), ${NUMBER}, '<n>', 'g')`;
  const rows = await queryRows<{ type: JobType; name: string; message: string; n: number; failed: number; retrying: number; first_seen: string; last_seen: string; sample: string }>(
    db,
    sql`
    SELECT type, name, message, count(*)::int AS n,
           (count(*) FILTER (WHERE status = 'failed'))::int AS failed, (count(*) FILTER (WHERE status = 'retrying'))::int AS retrying,
           min(updated_at)::text AS first_seen, max(updated_at)::text AS last_seen, (array_agg(job_id::text ORDER BY updated_at DESC, job_id))[1] AS sample
    FROM (SELECT ${t.type} AS type, coalesce(${t.error}->>'name', 'Error') AS name, ${normalized} AS message, ${t.status} AS status, ${t.updatedAt} AS updated_at, ${t.id} AS job_id
          FROM ${t} WHERE ${where}) AS failures
    GROUP BY type, name, message
    ORDER BY n DESC, max(updated_at) DESC
    LIMIT ${input.limit}`,
  );
  return rows.map((r) => ({
    type: r.type,
    errorName: r.name,
    errorMessage: r.message,
    count: r.n,
    failed: r.failed,
    retrying: r.retrying,
    firstSeen: new Date(r.first_seen),
    lastSeen: new Date(r.last_seen),
    sampleJobId: r.sample,
  }));
}
