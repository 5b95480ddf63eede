import { sql } from 'drizzle-orm';
import { queryRows } from '../db/database.ts';
import type { FilesDeps } from '../files/filesDeps.ts';
import { toError } from '../jobs/errors.ts';

/**
 * Deletes generated files past their `expires_at`, in batches: the row first (so downloads stop
 * at once), then the bytes. A crash between the two leaves an unreferenced file, never a row
 * pointing at nothing.
 */
export async function deleteExpiredFiles(
  files: FilesDeps,
  opts: { organizationId: number | undefined; now?: Date; batchSize?: number; signal?: AbortSignal },
): Promise<number> {
  const batchSize = opts.batchSize ?? 500;
  const byOrg = opts.organizationId === undefined ? sql`` : sql`AND organization_id = ${opts.organizationId}`;
  const now = (opts.now ?? new Date()).toISOString();
  let deleted = 0;
  for (;;) {
    opts.signal?.throwIfAborted();
    const rows = await queryRows<{ id: string; storage_key: string }>(files.db, sql`
      DELETE FROM generated_files WHERE id IN (
        SELECT id FROM generated_files WHERE expires_at < ${now}::timestamptz ${byOrg} LIMIT ${batchSize} FOR UPDATE SKIP LOCKED
      ) RETURNING id, storage_key`);
    for (const row of rows) {
      await files.storage.delete(row.storage_key).catch((error: unknown) => {
        files.log.warn({ err: toError(error), fileId: row.id }, '[cleanup] Could not delete a stored file');
      });
    }
    deleted += rows.length;
    if (rows.length < batchSize) return deleted;
  }
}
