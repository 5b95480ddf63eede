-- Every claim and settle changes job_executions.status: a non-HOT update that adds an entry to every
-- index whose predicate the new row meets (docs/performance.md, "Delivery"). Fewer, partial indexes:
-- job_type and the bare status index served nothing the others do not; the sweeper's (status,
-- published_at) now leaves out completed jobs, the bulk of the table; finished jobs get one index by
-- completion time (cleanup, job health). New indexes first, so no query goes without one meanwhile.
CREATE INDEX IF NOT EXISTS "job_executions_not_completed_idx" ON "job_executions" USING btree ("status","published_at") WHERE "job_executions"."status" <> 'completed';--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "job_executions_finished_idx" ON "job_executions" USING btree ("status","completed_at") WHERE "job_executions"."status" IN ('completed', 'failed', 'cancelled');--> statement-breakpoint
DROP INDEX IF EXISTS "job_executions_type_idx";--> statement-breakpoint
DROP INDEX IF EXISTS "job_executions_status_idx";--> statement-breakpoint
DROP INDEX IF EXISTS "job_executions_sweep_idx";--> statement-breakpoint
DROP INDEX IF EXISTS "job_executions_completed_idx";--> statement-breakpoint
-- Room on each page for the next version of a row: lease renewals and progress reports touch no
-- indexed column and become HOT updates when it fits on the same page. Applies to pages written from now on.
ALTER TABLE "job_executions" SET (fillfactor = 80);
