import type { Param, Queryable } from '../db/executor.ts';
import { toBuffer, type CallbackSettings, type FlowControl } from '../messages/messageModel.ts';
import type { Redaction } from '../redact/redaction.ts';
import type { CallType } from './workflowInfo.ts';

export type RunState = 'RUN_STARTED' | 'RUN_SUCCESS' | 'RUN_FAILED' | 'RUN_CANCELED';

/** What the run's first publish set and every later step inherits unless it says otherwise. */
export interface RunConfig {
  maxRetries: number;
  retryDelay?: string;
  timeoutMs?: number;
  failureCallback?: string;
  failureCallbackSettings?: CallbackSettings;
  flow?: FlowControl;
  redact?: Redaction;
}

export interface StoredRun {
  runId: string;
  url: string;
  state: RunState;
  createdAt: number;
  completedAt?: number;
  config: RunConfig;
  labels: string[];
  response?: string;
  dlqId?: string;
}

export interface StepEntry {
  seq: number;
  runId: string;
  messageId: string;
  callType: CallType;
  body: Buffer;
  createdAt: number;
}

function rowToRun(row: Record<string, unknown>): StoredRun {
  return {
    runId: String(row.run_id),
    url: String(row.url),
    state: String(row.state) as RunState,
    createdAt: Number(row.created_at),
    completedAt: row.completed_at == null ? undefined : Number(row.completed_at),
    config: row.config as RunConfig,
    labels: (row.labels ?? []) as string[],
    response: row.response == null ? undefined : String(row.response),
    dlqId: row.dlq_id == null ? undefined : String(row.dlq_id),
  };
}

function rowToEntry(row: Record<string, unknown>): StepEntry {
  return {
    seq: Number(row.seq),
    runId: String(row.run_id),
    messageId: String(row.message_id),
    callType: String(row.call_type) as CallType,
    body: toBuffer(row.body),
    createdAt: Number(row.created_at),
  };
}

/** Creates a run; false when the id is taken (the SDK reports the trigger as deduplicated). */
export async function createRun(tx: Queryable, run: Omit<StoredRun, 'state'>): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO qstash.workflow_runs (run_id, url, state, created_at, config, labels) VALUES ($1, $2, 'RUN_STARTED', $3, $4::text::jsonb, $5::text::jsonb)
     ON CONFLICT (run_id) DO NOTHING RETURNING run_id`,
    [run.runId, run.url, run.createdAt, JSON.stringify(run.config), JSON.stringify(run.labels)],
  );
  return rows.length > 0;
}

export async function getRun(db: Queryable, runId: string, lock = false): Promise<StoredRun | undefined> {
  const [row] = await db.query(`SELECT * FROM qstash.workflow_runs WHERE run_id = $1${lock ? ' FOR UPDATE' : ''}`, [runId]);
  return row ? rowToRun(row) : undefined;
}

export async function appendStep(tx: Queryable, entry: Omit<StepEntry, 'seq'>): Promise<void> {
  await tx.query(
    'INSERT INTO qstash.workflow_steps (run_id, message_id, call_type, body, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id) DO NOTHING',
    [entry.runId, entry.messageId, entry.callType, entry.body, entry.createdAt],
  );
}

/** The run's entries in publish order, up to and including `uptoMessageId` when given (undefined if it has none). */
export async function listSteps(db: Queryable, runId: string, uptoMessageId?: string): Promise<StepEntry[] | undefined> {
  if (uptoMessageId === undefined) return (await db.query('SELECT * FROM qstash.workflow_steps WHERE run_id = $1 ORDER BY seq', [runId])).map(rowToEntry);
  const rows = await db.query(
    `SELECT * FROM qstash.workflow_steps WHERE run_id = $1 AND seq <= (SELECT seq FROM qstash.workflow_steps WHERE message_id = $2 AND run_id = $1) ORDER BY seq`,
    [runId, uptoMessageId],
  );
  return rows.length > 0 ? rows.map(rowToEntry) : undefined;
}

/** Moves a run out of RUN_STARTED; false when it had already ended. */
export async function endRun(db: Queryable, runId: string, end: { state: Exclude<RunState, 'RUN_STARTED'>; now: number; response?: string; dlqId?: string }): Promise<boolean> {
  const rows = await db.query(
    `UPDATE qstash.workflow_runs SET state = $2, completed_at = $3, response = $4, dlq_id = $5 WHERE run_id = $1 AND state = 'RUN_STARTED' RETURNING run_id`,
    [runId, end.state, end.now, end.response ?? null, end.dlqId ?? null],
  );
  return rows.length > 0;
}

/** Puts a failed run back to RUN_STARTED (DLQ resume / restart). */
export async function reopenRun(tx: Queryable, runId: string): Promise<void> {
  await tx.query(`UPDATE qstash.workflow_runs SET state = 'RUN_STARTED', completed_at = NULL, dlq_id = NULL, failure = NULL WHERE run_id = $1`, [runId]);
}

/** Reopens a failed run and hands the failed step's entry (its place in the run) to the message re-sending it. */
export async function resumeStep(tx: Queryable, runId: string, failedMessageId: string, newMessageId: string): Promise<void> {
  await reopenRun(tx, runId);
  await tx.query('UPDATE qstash.workflow_steps SET message_id = $2 WHERE message_id = $1', [failedMessageId, newMessageId]);
}

export async function setRunFailure(tx: Queryable, runId: string, failure: Record<string, unknown>): Promise<void> {
  await tx.query('UPDATE qstash.workflow_runs SET failure = $2::text::jsonb WHERE run_id = $1', [runId, JSON.stringify(failure)]);
}

/** Runs newest first for the logs, filtered by a prepared condition; `before` is a created_at/run_id cursor. */
export async function listRuns(db: Queryable, filter: { where: string; params: Param[] }, page: { count: number; before?: number }) {
  const params = [...filter.params, page.before ?? Number.MAX_SAFE_INTEGER, page.count + 1];
  const rows = await db.query(
    `SELECT * FROM qstash.workflow_runs WHERE (${filter.where}) AND created_at < $${params.length - 1} ORDER BY created_at DESC, run_id LIMIT $${params.length}`,
    params,
  );
  return { runs: rows.slice(0, page.count).map((r) => ({ ...rowToRun(r), failure: r.failure as Record<string, unknown> | null })), more: rows.length > page.count };
}
