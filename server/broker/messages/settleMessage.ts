import type { Queryable } from '../db/executor.ts';
import { recordEvents } from '../events/recordEvent.ts';
import type { Header, StoredMessage } from './messageModel.ts';

/** What one attempt produced; `status` is absent when no response arrived (timeout, network error). */
export interface AttemptResult {
  status?: number;
  header: Header;
  body: Buffer;
  error?: string;
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

/** A finished attempt as the log records it: ACTIVE at `startedAt`, then its outcome. */
export interface Settle {
  message: StoredMessage;
  result: AttemptResult;
  startedAt: number;
  now: number;
}

/**
 * Removes delivered messages and logs ACTIVE + DELIVERED for each, in one statement whatever their
 * number (the broker group-commits concurrent deliveries); per settle, false when the message was
 * already gone (cancelled mid-flight).
 */
export async function removeDelivered(db: Queryable, settles: readonly Settle[]): Promise<boolean[]> {
  if (settles.length === 0) return [];
  const input = settles.map((s) => ({
    id: s.message.id,
    started_at: s.startedAt,
    retried: s.message.retried,
    time: s.now,
    detail: { ...responseDetail(s.result), retried: s.message.retried },
  }));
  const rows = await db.query<{ id: string }>(
    `WITH input AS (SELECT * FROM jsonb_to_recordset($1::text::jsonb) AS x(id text, started_at bigint, retried int, time bigint, detail jsonb)),
     d AS (DELETE FROM qstash.messages m USING input i WHERE m.id = i.id RETURNING m.*),
     e AS (${EVENT_FROM_ROW}
           SELECT ev.time, d.id, ev.state, d.url, d.topic_name, d.queue_name, d.schedule_id, d.labels, d.flow_key, d.caller_ip, ev.detail
           FROM d JOIN input i ON i.id = d.id
           CROSS JOIN LATERAL (VALUES (1, i.started_at, 'ACTIVE', jsonb_build_object('retried', i.retried)), (2, i.time, 'DELIVERED', i.detail)) AS ev(n, time, state, detail)
           ORDER BY d.seq, ev.n)
     SELECT id FROM d`,
    [JSON.stringify(input)],
  );
  const removed = new Set(rows.map((r) => r.id));
  return settles.map((s) => removed.has(s.message.id));
}

/** Puts a failed attempt back for a retry at `dueAt`, logging ACTIVE, ERROR and RETRY, in one statement. */
export async function rescheduleMessage(db: Queryable, settle: Settle, dueAt: number): Promise<boolean> {
  const { message, result } = settle;
  const rows = await db.query(
    `WITH u AS (UPDATE qstash.messages SET state = 'RETRY', retried = retried + 1, due_at = $2 WHERE id = $1 RETURNING *)
     ${EVENT_FROM_ROW}
     SELECT e.time, u.id, e.state, u.url, u.topic_name, u.queue_name, u.schedule_id, u.labels, u.flow_key, u.caller_ip, e.detail
     FROM u, (VALUES (1, $6::bigint, 'ACTIVE', $7::text::jsonb), (2, $3::bigint, 'ERROR', $4::text::jsonb), (3, $3::bigint, 'RETRY', $5::text::jsonb)) AS e(n, time, state, detail)
     ORDER BY e.n RETURNING message_id`,
    [
      message.id,
      dueAt,
      settle.now,
      JSON.stringify({ ...responseDetail(result), retried: message.retried }),
      JSON.stringify({ nextDeliveryTime: dueAt, retried: message.retried + 1 }),
      settle.startedAt,
      JSON.stringify({ retried: message.retried }),
    ],
  );
  return rows.length > 0;
}

/** Moves a message that ran out of attempts to the DLQ with its last response; returns the dlqId. */
export async function moveToDlq(tx: Queryable, settle: Settle): Promise<string | undefined> {
  const { message, result, now } = settle;
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
    { time: settle.startedAt, state: 'ACTIVE', message, detail: { retried: message.retried } },
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
