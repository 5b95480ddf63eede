import type { Queryable } from '../db/executor.ts';
import { recordEvents } from '../events/recordEvent.ts';
import { rowToMessage, type Header, type StoredMessage } from './messageModel.ts';

/** What one attempt produced; `status` is absent when no response arrived (timeout, network error). */
export interface AttemptResult {
  status?: number;
  header: Header;
  body: Buffer;
  error?: string;
}

/** Marks a message ACTIVE for an attempt and returns it; undefined when it was cancelled meanwhile. */
export async function claimMessage(db: Queryable, id: string, now: number): Promise<StoredMessage | undefined> {
  const rows = await db.query(
    `WITH m AS (UPDATE qstash.messages SET state = 'ACTIVE' WHERE id = $1 RETURNING *),
     e AS (INSERT INTO qstash.events (time, message_id, state, url, topic_name, queue_name, schedule_id, labels, flow_key, caller_ip, detail)
           SELECT $2, id, 'ACTIVE', url, topic_name, queue_name, schedule_id, labels, flow_key, caller_ip, jsonb_build_object('retried', retried) FROM m)
     SELECT * FROM m`,
    [id, now],
  );
  return rows[0] ? rowToMessage(rows[0]) : undefined;
}

export function responseDetail(result: AttemptResult): Record<string, unknown> {
  return {
    responseStatus: result.status,
    responseHeaders: result.header,
    responseBody: result.body.toString('base64'),
    error: result.error,
  };
}

const EVENT_FROM_ROW = `INSERT INTO qstash.events (time, message_id, state, url, topic_name, queue_name, schedule_id, labels, flow_key, caller_ip, detail)`;

/** Removes a delivered message and logs DELIVERED in one statement; false when it was already gone (cancelled mid-flight). */
export async function removeDelivered(db: Queryable, message: StoredMessage, result: AttemptResult, now: number): Promise<boolean> {
  const rows = await db.query(
    `WITH d AS (DELETE FROM qstash.messages WHERE id = $1 RETURNING *)
     ${EVENT_FROM_ROW}
     SELECT $2, id, 'DELIVERED', url, topic_name, queue_name, schedule_id, labels, flow_key, caller_ip, $3::text::jsonb FROM d RETURNING message_id`,
    [message.id, now, JSON.stringify({ ...responseDetail(result), retried: message.retried })],
  );
  return rows.length > 0;
}

/** Puts a failed attempt back for a retry at `dueAt`, logging ERROR and RETRY, in one statement. */
export async function rescheduleMessage(db: Queryable, message: StoredMessage, result: AttemptResult, options: { now: number; dueAt: number }): Promise<boolean> {
  const rows = await db.query(
    `WITH u AS (UPDATE qstash.messages SET state = 'RETRY', retried = retried + 1, due_at = $2 WHERE id = $1 RETURNING *)
     ${EVENT_FROM_ROW}
     SELECT $3, u.id, e.state, u.url, u.topic_name, u.queue_name, u.schedule_id, u.labels, u.flow_key, u.caller_ip, e.detail
     FROM u, (VALUES ('ERROR', $4::text::jsonb), ('RETRY', $5::text::jsonb)) AS e(state, detail) RETURNING message_id`,
    [
      message.id,
      options.dueAt,
      options.now,
      JSON.stringify({ ...responseDetail(result), retried: message.retried }),
      JSON.stringify({ nextDeliveryTime: options.dueAt, retried: message.retried + 1 }),
    ],
  );
  return rows.length > 0;
}

/** Moves a message that ran out of attempts to the DLQ with its last response; returns the dlqId. */
export async function moveToDlq(tx: Queryable, message: StoredMessage, result: AttemptResult, now: number): Promise<string | undefined> {
  const rows = await tx.query<{ dlq_id: string }>(
    `WITH m AS (DELETE FROM qstash.messages WHERE id = $1 RETURNING *),
     s AS (SELECT nextval(pg_get_serial_sequence('qstash.dlq', 'seq')) AS v)
     INSERT INTO qstash.dlq (seq, dlq_id, message_id, message, body, url, topic_name, queue_name, schedule_id, labels, flow_key, caller_ip,
                             response_status, response_header, response_body, created_at)
     SELECT s.v, $6::text || '-' || s.v::text, m.id, to_jsonb(m) - 'body', m.body, m.url, m.topic_name, m.queue_name, m.schedule_id, m.labels,
            m.flow_key, m.caller_ip, $3, $4::text::jsonb, $5, $2 FROM m, s
     RETURNING dlq_id`,
    [message.id, now, result.status ?? null, JSON.stringify(result.header), result.body, String(now)],
  );
  const dlqId = rows[0]?.dlq_id;
  if (dlqId === undefined) return undefined;
  await recordEvents(tx, [
    { time: now, state: 'ERROR', message, detail: { ...responseDetail(result), retried: message.retried } },
    { time: now, state: 'FAILED', message, detail: { ...responseDetail(result), dlqId, retried: message.retried } },
  ]);
  return dlqId;
}

/** Records the outcome of a schedule-fired message in its schedule's lastScheduleStates. */
export async function markScheduleState(tx: Queryable, message: StoredMessage, state: 'SUCCESS' | 'FAIL'): Promise<void> {
  if (!message.scheduleId || message.kind !== 'message') return;
  await tx.query(
    `UPDATE qstash.schedules SET last_schedule_states = last_schedule_states || jsonb_build_object($2::text, $3::text)
     WHERE id = $1 AND (last_schedule_states -> $2::text) IS NOT NULL`,
    [message.scheduleId, message.id, state],
  );
}
