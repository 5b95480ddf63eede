import { inArray } from 'drizzle-orm';
import type { Db } from '../../../server/db/database.ts';
import { jobExecutions } from '../../../server/db/schema.ts';

/**
 * The jobs' status and retry count. A connection cut by a fault is only found dead when used, so
 * this read retries (up to 5 times, 200 ms apart) as the server's own statements do.
 */
export async function jobStates(db: Db, ids: string[]) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.select({ status: jobExecutions.status, retry_count: jobExecutions.retryCount }).from(jobExecutions).where(inArray(jobExecutions.id, ids));
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
