import type { Queryable } from '../db/executor.ts';
import { cancelMessages } from '../messages/messageQueries.ts';

export interface QueueRow {
  name: string;
  parallelism: number;
  paused: boolean;
  createdAt: number;
  updatedAt: number;
}

const SELECT = 'SELECT name, parallelism, paused, created_at AS "createdAt", updated_at AS "updatedAt" FROM qstash.queues';

/** Creates a queue on first enqueue (parallelism 1), as QStash appears to. */
export async function ensureQueue(db: Queryable, name: string, now: number): Promise<void> {
  await db.query('INSERT INTO qstash.queues (name, created_at, updated_at) VALUES ($1, $2, $2) ON CONFLICT (name) DO NOTHING', [name, now]);
}

export async function upsertQueue(db: Queryable, queue: { name: string; parallelism: number; paused: boolean }, now: number): Promise<QueueRow> {
  const [row] = await db.query<QueueRow>(
    `INSERT INTO qstash.queues (name, parallelism, paused, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
     ON CONFLICT (name) DO UPDATE SET parallelism = EXCLUDED.parallelism, paused = EXCLUDED.paused, updated_at = EXCLUDED.updated_at
     RETURNING name, parallelism, paused, created_at AS "createdAt", updated_at AS "updatedAt"`,
    [queue.name, queue.parallelism, queue.paused, now],
  );
  return row as QueueRow; // INSERT … RETURNING always yields the row
}

export async function setQueuePaused(db: Queryable, name: string, paused: boolean, now: number): Promise<QueueRow | undefined> {
  const [row] = await db.query<QueueRow>(
    `UPDATE qstash.queues SET paused = $2, updated_at = $3 WHERE name = $1
     RETURNING name, parallelism, paused, created_at AS "createdAt", updated_at AS "updatedAt"`,
    [name, paused, now],
  );
  return row;
}

export async function getQueue(db: Queryable, name: string): Promise<QueueRow | undefined> {
  const [row] = await db.query<QueueRow>(`${SELECT} WHERE name = $1`, [name]);
  return row;
}

export async function listQueues(db: Queryable): Promise<QueueRow[]> {
  return db.query<QueueRow>(`${SELECT} ORDER BY name`);
}

/** Deletes a queue and cancels its pending messages (logged CANCELED); returns the ids removed. */
export async function deleteQueue(db: Queryable, name: string, now: number): Promise<{ found: boolean; messageIds: string[] }> {
  const rows = await db.query<{ name: string }>('DELETE FROM qstash.queues WHERE name = $1 RETURNING name', [name]);
  const messageIds = await cancelMessages(db, { where: 'queue_name = $1', params: [name] }, now);
  return { found: rows.length > 0, messageIds };
}
