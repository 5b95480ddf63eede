import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { inList, jobExecutions, tz } from './schema.ts';

/** What produced a stored file. */
export const GENERATED_FILE_KINDS = ['export', 'report'] as const;
export type GeneratedFileKind = (typeof GENERATED_FILE_KINDS)[number];


/**
 * Files that export and report jobs write to storage, one per job. The row is what downloads
 * are authorized against (its organization) and what cleanup expires; the bytes live in the
 * FileStorage under `storage_key`.
 */
export const generatedFiles = pgTable(
  'generated_files',
  {
    id: uuid('id').primaryKey(),
    organizationId: integer('organization_id').notNull(),
    kind: text('kind').$type<GeneratedFileKind>().notNull(),
    /** The job that wrote it; kept (as NULL) when cleanup deletes the job before the file expires. */
    jobId: uuid('job_id').references(() => jobExecutions.id, { onDelete: 'set null' }),
    storageKey: text('storage_key').notNull(),
    /** `csv`, `json` (NDJSON for exports), `pdf`. */
    format: text('format').notNull(),
    contentType: text('content_type').notNull(),
    /** Name offered in Content-Disposition. */
    fileName: text('file_name').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    /** Data rows written (exports); NULL for reports. */
    rowCount: integer('row_count'),
    createdAt: tz('created_at').notNull().defaultNow(),
    expiresAt: tz('expires_at').notNull(),
  },
  (t) => [
    check('generated_files_kind_check', sql`${t.kind} IN (${inList(GENERATED_FILE_KINDS)})`),
    // One file per job: a retried attempt overwrites its own file instead of leaving another.
    uniqueIndex('generated_files_job_idx').on(t.jobId),
    index('generated_files_expires_idx').on(t.expiresAt),
    index('generated_files_org_idx').on(t.organizationId),
  ],
);

export type GeneratedFileRow = typeof generatedFiles.$inferSelect;
