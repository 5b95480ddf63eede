import type { Queryable } from '../db/executor.ts';
import type { StoredMessage } from '../messages/messageModel.ts';

/** Log states; the SDK spells the cancelled state `CANCELED` (filters accept both spellings). */
export type EventState = 'CREATED' | 'ACTIVE' | 'DELIVERED' | 'ERROR' | 'RETRY' | 'FAILED' | 'CANCEL_REQUESTED' | 'CANCELED';

export type EventSubject = Pick<StoredMessage, 'id' | 'url' | 'topicName' | 'queueName' | 'scheduleId' | 'labels' | 'flow' | 'callerIp'>;

export interface EventInput {
  time: number;
  state: EventState;
  message: EventSubject;
  detail?: Record<string, unknown>;
}

/** Appends one or more rows to the event log in a single statement. */
export async function recordEvents(db: Queryable, events: readonly EventInput[]): Promise<void> {
  if (events.length === 0) return;
  const params: (string | number | null)[] = [];
  const tuples = events.map((e) => {
    const m = e.message;
    const values = [e.time, m.id, e.state, m.url, m.topicName ?? null, m.queueName ?? null, m.scheduleId ?? null, JSON.stringify(m.labels), m.flow?.key ?? null, m.callerIp ?? null, JSON.stringify(e.detail ?? {})];
    const start = params.length;
    params.push(...values);
    return `(${values.map((_v, i) => (i === 7 || i === 10 ? `$${start + i + 1}::text::jsonb` : `$${start + i + 1}`)).join(', ')})`;
  });
  await db.query(
    `INSERT INTO qstash.events (time, message_id, state, url, topic_name, queue_name, schedule_id, labels, flow_key, caller_ip, detail) VALUES ${tuples.join(', ')}`,
    params,
  );
}
