import type { Param, Queryable } from '../db/executor.ts';

/** One page of the log, newest first; `cursor` (a seq) continues with older entries. */
export async function listEvents(
  db: Queryable,
  filter: { where: string; params: Param[] },
  page: { count: number; before?: number | undefined },
): Promise<{ events: Record<string, unknown>[]; cursor?: string }> {
  const params = [...filter.params, page.before ?? Number.MAX_SAFE_INTEGER, page.count + 1];
  const rows = await db.query<Record<string, unknown>>(
    `SELECT * FROM qstash.events WHERE (${filter.where}) AND seq < $${params.length - 1} ORDER BY seq DESC LIMIT $${params.length}`,
    params,
  );
  const events = rows.slice(0, page.count);
  const last = events.at(-1);
  return {
    events: events.map(eventJson),
    ...(rows.length > page.count && last ? { cursor: String(last.seq) } : {}),
  };
}

function eventJson(row: Record<string, unknown>) {
  const labels = (row.labels ?? []) as string[];
  return {
    time: Number(row.time),
    messageId: row.message_id,
    state: row.state,
    url: row.url,
    topicName: row.topic_name ?? undefined,
    queueName: row.queue_name ?? undefined,
    scheduleId: row.schedule_id ?? undefined,
    flowControlKey: row.flow_key ?? undefined,
    callerIp: row.caller_ip ?? undefined,
    label: labels[0],
    labels: labels.length > 0 ? labels : undefined,
    ...(row.detail as Record<string, unknown>),
  };
}
