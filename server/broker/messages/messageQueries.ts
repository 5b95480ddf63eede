import type { Param, Queryable } from '../db/executor.ts';
import { rowToMessage, type StoredMessage } from './messageModel.ts';

export async function getMessage(db: Queryable, id: string): Promise<StoredMessage | undefined> {
  const [row] = await db.query('SELECT * FROM qstash.messages WHERE id = $1', [id]);
  return row ? rowToMessage(row) : undefined;
}

/** Loads what the dispatcher needs for every pending message, in FIFO order. */
export async function listPendingForDispatch(db: Queryable) {
  return db.query<{ id: string; seq: number; due_at: number; queue_name: string | null; flow_key: string | null; flow_parallelism: number | null; flow_rate: number | null; flow_period: number | null }>(
    'SELECT id, seq, due_at, queue_name, flow_key, flow_parallelism, flow_rate, flow_period FROM qstash.messages ORDER BY seq',
  );
}

/** Cancels (deletes) the matching pending messages, logging CANCELED for each; returns their ids. */
export async function cancelMessages(db: Queryable, filter: { where: string; params: Param[] }, now: number): Promise<string[]> {
  const rows = await db.query<{ message_id: string }>(
    `WITH d AS (DELETE FROM qstash.messages WHERE ${filter.where} RETURNING *)
     INSERT INTO qstash.events (time, message_id, state, url, topic_name, queue_name, schedule_id, labels, flow_key, caller_ip, detail)
     SELECT $${filter.params.length + 1}, id, 'CANCELED', url, topic_name, queue_name, schedule_id, labels, flow_key, caller_ip, '{}'::jsonb FROM d
     RETURNING message_id`,
    [...filter.params, now],
  );
  return rows.map((r) => r.message_id);
}
