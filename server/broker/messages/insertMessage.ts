import type { Queryable } from '../db/executor.ts';
import { DEDUP_WINDOW_MS } from '../publish/dedupKey.ts';
import { randomToken } from '../randomToken.ts';
import { redactBody, redactHeader } from '../redact/redaction.ts';
import type { MessageSpec, StoredMessage } from './messageModel.ts';

export function newMessageId(): string {
  return `msg_${randomToken(18, 'base64url')}`;
}

export type InsertOutcome = { deduplicated: false; message: StoredMessage } | { deduplicated: true; messageId: string };

export interface NewMessage {
  spec: MessageSpec;
  dueAt: number;
  /** A repeat of this key within the dedup window is answered with the first message's id. */
  dedupKey?: string | undefined;
}

// One JSON document carries every row, so a batch of any size is one statement with one
// (prepared once) text; bodies travel as base64. Column list of `jsonb_to_recordset`:
const INPUT_COLUMNS = `ord int, id text, dedup_key text, kind text, url text, method text, header jsonb, body text, topic_name text,
  endpoint_name text, queue_name text, schedule_id text, max_retries int, retry_delay text, callback text, failure_callback text,
  callback_options jsonb, timeout_ms bigint, not_before bigint, due_at bigint, flow_key text, flow_parallelism int, flow_rate int,
  flow_period int, labels jsonb, caller_ip text, redact jsonb, workflow jsonb, detail jsonb`;
const MESSAGE_COLUMNS = `id, kind, url, method, header, body, topic_name, endpoint_name, queue_name, schedule_id, max_retries, retry_delay,
  callback, failure_callback, callback_options, timeout_ms, not_before, flow_key, flow_parallelism, flow_rate, flow_period, labels,
  caller_ip, redact, workflow`;
const EVENT_COLUMNS = 'url, topic_name, queue_name, schedule_id, labels, flow_key, caller_ip';

/**
 * One statement: creates the queues named (`$4`), claims the dedup keys, inserts the messages whose
 * key was claimed (or that have none) in input order, and logs CREATED for each. A dedup row always
 * comes back (the conflict branch rewrites it, keeping an unexpired owner), locked and current, so a
 * concurrent publisher of the same key is answered with the committed winner's id.
 */
const INSERT_MESSAGES = `
WITH input AS (SELECT * FROM jsonb_to_recordset($1::text::jsonb) AS x(${INPUT_COLUMNS})),
q AS (
  INSERT INTO qstash.queues (name, created_at, updated_at)
  SELECT DISTINCT queue_name, $2::bigint, $2::bigint FROM input WHERE $4::boolean AND queue_name IS NOT NULL
  ON CONFLICT (name) DO NOTHING
),
d AS (
  INSERT INTO qstash.dedup AS o (key, message_id, expires_at)
  SELECT dedup_key, id, $3::bigint FROM input WHERE dedup_key IS NOT NULL
  ON CONFLICT (key) DO UPDATE SET
    message_id = CASE WHEN o.expires_at <= $2::bigint THEN EXCLUDED.message_id ELSE o.message_id END,
    expires_at = CASE WHEN o.expires_at <= $2::bigint THEN EXCLUDED.expires_at ELSE o.expires_at END
  RETURNING key, message_id
),
m AS (
  INSERT INTO qstash.messages (${MESSAGE_COLUMNS}, created_at, due_at, state)
  SELECT ${MESSAGE_COLUMNS.replace('body,', "decode(body, 'base64'),") /* the same columns, the body decoded */}, $2::bigint, due_at, 'CREATED' FROM input i
  WHERE i.dedup_key IS NULL OR EXISTS (SELECT 1 FROM d WHERE d.key = i.dedup_key AND d.message_id = i.id)
  ORDER BY i.ord
  RETURNING id, seq
),
e AS (
  INSERT INTO qstash.events (time, message_id, state, ${EVENT_COLUMNS}, detail)
  SELECT $2::bigint, i.id, 'CREATED', ${EVENT_COLUMNS.split(', ').map((c) => `i.${c}`).join(', ')}, i.detail
  FROM m JOIN input i ON i.id = m.id ORDER BY m.seq
)
SELECT i.ord, coalesce(d.message_id, i.id) AS message_id, m.seq
FROM input i LEFT JOIN d ON d.key = i.dedup_key LEFT JOIN m ON m.id = i.id ORDER BY i.ord`;

/**
 * Stores new messages and their CREATED events in one statement, whatever their number: one write
 * transaction on its own, or part of the caller's. Messages repeating a dedup key within the
 * window (or an earlier message of the same call) get the first message's id instead, and the
 * caller answers 202 `deduplicated: true`. With `ensureQueues`, queues named by the messages are
 * created on first use (parallelism 1).
 */
export async function insertMessages(tx: Queryable, items: readonly NewMessage[], options: { now: number; ensureQueues?: boolean }): Promise<InsertOutcome[]> {
  if (items.length === 0) return [];
  const { now } = options;
  const firstWithKey = new Map<string, number>();
  const rows: Record<string, unknown>[] = [];
  const ids: string[] = [];
  items.forEach((item, ord) => {
    const id = newMessageId();
    ids.push(id);
    const key = item.dedupKey;
    // The same key twice in one call: the later one is a repeat of the earlier (as if sent after it).
    if (key !== undefined && firstWithKey.has(key)) return;
    if (key !== undefined) firstWithKey.set(key, ord);
    rows.push(inputRow(item, id, ord));
  });
  const result = await tx.query<{ ord: number; message_id: string; seq: number | null }>(INSERT_MESSAGES, [
    JSON.stringify(rows),
    now,
    now + DEDUP_WINDOW_MS,
    options.ensureQueues === true,
  ]);
  const byOrd = new Map(result.map((r) => [Number(r.ord), r]));
  const outcomes: InsertOutcome[] = [];
  items.forEach((item, ord) => {
    const row = byOrd.get(item.dedupKey === undefined ? ord : (firstWithKey.get(item.dedupKey) as number)); // set for every key above
    if (!row) throw new Error(`message ${ord} of an insert came back without a result`);
    if (row.seq === null || row.message_id !== ids[ord]) {
      outcomes.push({ deduplicated: true, messageId: row.message_id });
      return;
    }
    const message: StoredMessage = { ...item.spec, id: row.message_id, seq: Number(row.seq), createdAt: now, dueAt: item.dueAt, retried: 0, state: 'CREATED' };
    outcomes.push({ deduplicated: false, message });
  });
  return outcomes;
}

/** Stores one message (see `insertMessages`). */
export async function insertMessage(tx: Queryable, spec: MessageSpec, options: { now: number; dueAt: number; dedupKey?: string | undefined }): Promise<InsertOutcome> {
  const [outcome] = await insertMessages(tx, [{ spec, dueAt: options.dueAt, dedupKey: options.dedupKey }], { now: options.now });
  return outcome as InsertOutcome; // one item in, one outcome out
}

function inputRow(item: NewMessage, id: string, ord: number): Record<string, unknown> {
  const spec = item.spec;
  return {
    ord,
    id,
    dedup_key: item.dedupKey ?? null,
    kind: spec.kind,
    url: spec.url,
    method: spec.method,
    header: spec.header,
    body: spec.body.toString('base64'),
    topic_name: spec.topicName ?? null,
    endpoint_name: spec.endpointName ?? null,
    queue_name: spec.queueName ?? null,
    schedule_id: spec.scheduleId ?? null,
    max_retries: spec.maxRetries,
    retry_delay: spec.retryDelay ?? null,
    callback: spec.callback ?? null,
    failure_callback: spec.failureCallback ?? null,
    callback_options: spec.callbackOptions,
    timeout_ms: spec.timeoutMs ?? null,
    not_before: spec.notBefore,
    due_at: item.dueAt,
    flow_key: spec.flow?.key ?? null,
    flow_parallelism: spec.flow?.parallelism ?? null,
    flow_rate: spec.flow?.rate ?? null,
    flow_period: spec.flow?.period ?? null,
    labels: spec.labels,
    caller_ip: spec.callerIp ?? null,
    redact: spec.redact ?? null,
    workflow: spec.workflow ?? null,
    detail: {
      method: spec.method,
      header: redactHeader(spec.header, spec.redact),
      body: redactBody(spec.body, spec.redact).toString('base64'),
      maxRetries: spec.maxRetries,
      retryDelayExpression: spec.retryDelay,
      callback: spec.callback,
      failureCallback: spec.failureCallback,
      notBefore: spec.notBefore,
      timeout: spec.timeoutMs,
      endpointName: spec.endpointName,
    },
  };
}
