import type { DbOrTx } from '../db/database.ts';
import type { JobRow } from '../db/schema.ts';
import { recordEvent } from './recordEvent.ts';

type Tx = Parameters<Parameters<DbOrTx['transaction']>[0]>[0];

/**
 * Runs one guarded state change (an `UPDATE … WHERE status IN (…) RETURNING`) and, when it
 * matched, writes the timeline event and NOTIFY in the same transaction.
 */
export async function transition(
  db: DbOrTx,
  change: (tx: Tx) => Promise<JobRow | undefined>,
  message?: string,
): Promise<JobRow | undefined> {
  return db.transaction(async (tx) => {
    const row = await change(tx);
    if (row) await recordEvent(tx, row, message);
    return row;
  });
}
