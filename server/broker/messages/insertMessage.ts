import { randomBytes } from 'node:crypto';
import type { Param, Queryable } from '../db/executor.ts';
import { DEDUP_WINDOW_MS } from '../publish/dedupKey.ts';
import { redactBody, redactHeader } from '../redact/redaction.ts';
import { JSON_COLUMNS, specColumns, type MessageSpec, type StoredMessage } from './messageModel.ts';

export function newMessageId(): string {
  return `msg_${randomBytes(18).toString('base64url')}`;
}

export type InsertOutcome = { deduplicated: false; message: StoredMessage } | { deduplicated: true; messageId: string };

/**
 * Stores a new message and its CREATED event in one statement. With a dedup key, a repeat within
 * the window returns the first message's id instead (the caller answers 202 `deduplicated: true`).
 * Run inside a transaction when a dedup key is given.
 */
export async function insertMessage(
  tx: Queryable,
  spec: MessageSpec,
  options: { now: number; dueAt: number; dedupKey?: string | undefined },
): Promise<InsertOutcome> {
  const id = newMessageId();
  if (options.dedupKey) {
    const claimed = await tx.query(
      `INSERT INTO qstash.dedup (key, message_id, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET message_id = EXCLUDED.message_id, expires_at = EXCLUDED.expires_at
       WHERE qstash.dedup.expires_at <= $4 RETURNING message_id`,
      [options.dedupKey, id, options.now + DEDUP_WINDOW_MS, options.now],
    );
    if (claimed.length === 0) {
      const [existing] = await tx.query<{ message_id: string }>('SELECT message_id FROM qstash.dedup WHERE key = $1', [options.dedupKey]);
      return { deduplicated: true, messageId: existing?.message_id ?? id };
    }
  }
  const columns: Record<string, Param> = { id, ...specColumns(spec), created_at: options.now, due_at: options.dueAt, state: 'CREATED' };
  const names = Object.keys(columns);
  const params = Object.values(columns);
  const placeholders = names.map((name, i) => (JSON_COLUMNS.has(name) ? `$${i + 1}::text::jsonb` : `$${i + 1}`));
  const detail = {
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
  };
  params.push(JSON.stringify(detail));
  const rows = await tx.query<{ seq: number }>(
    `WITH m AS (INSERT INTO qstash.messages (${names.join(', ')}) VALUES (${placeholders.join(', ')}) RETURNING *)
     INSERT INTO qstash.events (time, message_id, state, url, topic_name, queue_name, schedule_id, labels, flow_key, caller_ip, detail)
     SELECT m.created_at, m.id, 'CREATED', m.url, m.topic_name, m.queue_name, m.schedule_id, m.labels, m.flow_key, m.caller_ip, $${params.length}::text::jsonb
     FROM m RETURNING (SELECT seq FROM m) AS seq`,
    params,
  );
  const seq = Number(rows[0]?.seq);
  return { deduplicated: false, message: { ...spec, id, seq, createdAt: options.now, dueAt: options.dueAt, retried: 0, state: 'CREATED' } };
}
