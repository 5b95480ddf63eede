import { getTableColumns, is, SQL, sql, type SQLWrapper } from 'drizzle-orm';
import { queryRows, type DbOrTx } from '../db/database.ts';
import { jobExecutions, type JobRow } from '../db/schema.ts';
import { eventNotice, JOB_EVENT_COLUMNS, recordEvent } from './recordEvent.ts';

type Tx = Parameters<Parameters<DbOrTx['transaction']>[0]>[0];

/**
 * A guarded update of one job, built but not run: `db.update(jobExecutions).set(…).where(…)`
 * (the builder only lends its SQL; `transition` runs it on the `db` it is given).
 */
export interface JobUpdate {
  returning(): SQLWrapper;
}

/**
 * Runs one guarded state change (an `UPDATE … WHERE status IN (…) RETURNING`) and, when it
 * matched, writes the timeline event and the NOTIFY with it, atomically.
 *
 * Given the update itself (a builder, or the raw `UPDATE job_executions … RETURNING *` of a hot
 * statement, cheaper to build), all of it is ONE statement (its own transaction): the update, the
 * event insert and the NOTIFY are data-modifying CTEs and the final SELECT, so a state change
 * costs one round trip and one commit. Given a function (a change that needs several
 * statements), it runs in a transaction and the event is recorded after it.
 */
export async function transition(db: DbOrTx, change: JobUpdate | SQL | ((tx: Tx) => Promise<JobRow | undefined>), message?: string): Promise<JobRow | undefined> {
  if (typeof change === 'function') {
    return db.transaction(async (tx) => {
      const row = await change(tx);
      if (row) await recordEvent(tx, row, message);
      return row;
    });
  }
  const [row] = await transitionRows(db, is(change, SQL) ? change : change.returning(), message);
  return row && toJobRow(row);
}

/**
 * Several guarded state changes in one statement (its own transaction): `update` is a raw
 * `UPDATE job_executions … RETURNING *` that may match many rows, each of which gets its timeline
 * event and NOTIFY. Answers every changed row (with any extra columns the update returned).
 */
export async function transitionMany(db: DbOrTx, update: SQL, message?: string): Promise<Array<{ row: JobRow; raw: Record<string, unknown> }>> {
  const rows = await transitionRows(db, update, message);
  return rows.map((raw) => ({ row: toJobRow(raw), raw }));
}

async function transitionRows(db: DbOrTx, update: SQLWrapper, message: string | undefined): Promise<Array<Record<string, unknown>>> {
  // The NOTIFY is in the final SELECT, not a CTE of its own: a SELECT CTE nobody reads never runs.
  return queryRows<Record<string, unknown>>(
    db,
    sql`WITH changed AS ${is(update, SQL) ? sql`(${update})` : update},
      event AS (
        INSERT INTO job_events (${JOB_EVENT_COLUMNS})
        SELECT job_id, organization_id, job_type, status, progress, ${message ?? null}::text, retry_count, max_retries, next_attempt_at, error,
               CASE WHEN status = 'completed' THEN result END
        FROM changed
        RETURNING id, job_id, organization_id
      )
      SELECT changed.*, ${eventNotice(sql`event`)} AS notified FROM changed JOIN event USING (job_id)`,
  );
}

const columns = Object.entries(getTableColumns(jobExecutions));

/** A `job_executions` row as the driver returned it, mapped as drizzle maps its own results. */
function toJobRow(raw: Record<string, unknown>): JobRow {
  const row: Record<string, unknown> = {};
  for (const [key, column] of columns) {
    const value = raw[column.name];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as JobRow; // every column of the table, mapped by its own column type
}

/** Job ids as a PostgreSQL array literal (`${…}::uuid[]`; ids are uuids: nothing to quote). */
export const uuidArray = (ids: readonly string[]) => `{${ids.join(',')}}`;

/**
 * A condition, true, that first locks the job rows of `ids` in job-id order, with the lock an
 * UPDATE takes (an uncorrelated subquery: PostgreSQL runs it once, before the statement's first
 * row). Every statement that updates several job rows at once and may wait for them (claims,
 * completions, publish stamps, lease renewals) takes this first, so they all lock in one order and
 * never deadlock with one another; their own plans visit rows in whatever order suits them (a
 * bitmap scan: the table's physical order). A statement of one row holds one lock and waits for
 * no other, so it is never in a cycle: it skips the subquery.
 */
export const lockedInOrder = (ids: readonly string[]) =>
  ids.length > 1 ? sql`(SELECT count(*) FROM (SELECT FROM job_executions WHERE job_id = ANY(${uuidArray(ids)}::uuid[]) ORDER BY job_id FOR NO KEY UPDATE) AS locked) >= 0` : sql`true`;
