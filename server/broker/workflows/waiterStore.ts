import type { Queryable } from '../db/executor.ts';
import type { Header } from '../messages/messageModel.ts';

/** The SDK's `Waiter`: where and how to continue the run when its event arrives or times out. */
export interface WaitRequest {
  url: string;
  timeout: string;
  timeoutUrl?: string;
  timeoutBody?: string;
  timeoutHeaders?: Header;
  step: Record<string, unknown>;
}

export interface StoredWaiter {
  id: number;
  eventId: string;
  runId: string;
  url: string;
  deadline: number;
  /** The /v2/wait request's own headers (lower-case names): a notify publishes with them. */
  headers: Record<string, string>;
  request: WaitRequest;
  timeoutMessageId?: string;
  createdAt: number;
}

function rowToWaiter(row: Record<string, unknown>): StoredWaiter {
  return {
    id: Number(row.id),
    eventId: String(row.event_id),
    runId: String(row.run_id),
    url: String(row.url),
    deadline: Number(row.deadline),
    headers: row.headers as Record<string, string>,
    request: row.request as WaitRequest,
    timeoutMessageId: row.timeout_message_id == null ? undefined : String(row.timeout_message_id),
    createdAt: Number(row.created_at),
  };
}

export async function insertWaiter(tx: Queryable, w: Omit<StoredWaiter, 'id' | 'timeoutMessageId'>): Promise<number> {
  const [row] = await tx.query<{ id: number }>(
    `INSERT INTO qstash.workflow_waiters (event_id, run_id, url, deadline, headers, request, created_at)
     VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb, $7) RETURNING id`,
    [w.eventId, w.runId, w.url, w.deadline, JSON.stringify(w.headers), JSON.stringify(w.request), w.createdAt],
  );
  return Number(row?.id);
}

/**
 * Removes the run's earlier waiter for the same step and event (a redelivered step registers its
 * wait again) and returns their timeout messages, so a run never resumes twice from one wait.
 */
export async function replaceWaiter(tx: Queryable, w: { runId: string; eventId: string; step: Record<string, unknown> }): Promise<string[]> {
  const rows = await tx.query<{ timeout_message_id: string | null }>(
    `DELETE FROM qstash.workflow_waiters WHERE run_id = $1 AND event_id = $2
       AND (request -> 'step' ->> 'stepId') IS NOT DISTINCT FROM $3 AND (request -> 'step' ->> 'targetStep') IS NOT DISTINCT FROM $4
     RETURNING timeout_message_id`,
    [w.runId, w.eventId, w.step.stepId == null ? null : String(w.step.stepId), w.step.targetStep == null ? null : String(w.step.targetStep)],
  );
  return rows.flatMap((r) => (r.timeout_message_id ? [r.timeout_message_id] : []));
}

export async function setTimeoutMessage(tx: Queryable, id: number, messageId: string): Promise<void> {
  await tx.query('UPDATE qstash.workflow_waiters SET timeout_message_id = $2 WHERE id = $1', [id, messageId]);
}

export async function listWaiters(db: Queryable, eventId: string): Promise<StoredWaiter[]> {
  return (await db.query('SELECT * FROM qstash.workflow_waiters WHERE event_id = $1 ORDER BY id', [eventId])).map(rowToWaiter);
}

/** Takes the waiters of an event (optionally of one run) away from their timeouts: whoever deletes a waiter owns it. */
export async function claimWaiters(tx: Queryable, eventId: string, runId?: string): Promise<StoredWaiter[]> {
  const rows = await tx.query(
    `DELETE FROM qstash.workflow_waiters WHERE event_id = $1 AND ($2::text IS NULL OR run_id = $2) RETURNING *`,
    [eventId, runId ?? null],
  );
  return rows.map(rowToWaiter).sort((a, b) => a.id - b.id);
}

/** The timeout side of the same race. */
export async function claimWaiterById(tx: Queryable, id: number): Promise<boolean> {
  return (await tx.query('DELETE FROM qstash.workflow_waiters WHERE id = $1 RETURNING id', [id])).length > 0;
}

export async function deleteRunWaiters(tx: Queryable, runId: string): Promise<void> {
  await tx.query('DELETE FROM qstash.workflow_waiters WHERE run_id = $1', [runId]);
}

export function waiterJson(w: StoredWaiter) {
  return {
    url: w.url,
    deadline: w.deadline,
    headers: Object.fromEntries(Object.entries(w.headers).map(([k, v]) => [k, [v]])),
    timeoutUrl: w.request.timeoutUrl,
    timeoutBody: w.request.timeoutBody,
    timeoutHeaders: w.request.timeoutHeaders,
  };
}
