import type { Queryable } from '../db/executor.ts';
import { rowToMessage, type StoredMessage } from '../messages/messageModel.ts';
import type { StepEntry, StoredRun } from './runStore.ts';

type Json = Record<string, unknown>;

/** One finished step as `StepLog`, from its step entry (the SDK's step JSON). */
function stepLog(entry: StepEntry): Json | undefined {
  let step: Json;
  try {
    step = JSON.parse(entry.body.toString('utf8')) as Json;
  } catch {
    return undefined;
  }
  if (typeof step !== 'object' || step === null || !step.stepType) return undefined;
  const { out, ...rest } = step;
  return { ...rest, messageId: entry.messageId, state: 'STEP_SUCCESS', createdAt: entry.createdAt, ...(out === undefined ? {} : { out }) };
}

/**
 * The SDK's `WorkflowRunLog`: the initial step, each finished step (consecutive parallel results
 * grouped), then the messages still pending as a `next` group.
 */
export function runLogJson(run: StoredRun & { failure?: Json | null }, entries: StepEntry[], pending: StoredMessage[]) {
  const groups: { type: 'sequential' | 'parallel' | 'next'; steps: Json[] }[] = [];
  const [initial, ...rest] = entries;
  if (initial) {
    groups.push({ type: 'sequential', steps: [{ stepId: 0, stepName: 'init', stepType: 'Initial', concurrent: 1, messageId: initial.messageId, state: 'STEP_SUCCESS', out: initial.body.toString('utf8'), createdAt: initial.createdAt }] });
  }
  for (const entry of rest) {
    if (entry.callType !== 'step') continue;
    const log = stepLog(entry);
    if (!log || log.stepId === 0) continue; // plan steps of a parallel group are not results
    const last = groups.at(-1);
    if (Number(log.concurrent) > 1 && last?.type === 'parallel' && last.steps.length < Number(log.concurrent)) last.steps.push(log);
    else groups.push({ type: Number(log.concurrent) > 1 ? 'parallel' : 'sequential', steps: [log] });
  }
  const next = pending.filter((m) => m.workflow?.callType !== 'failureCall');
  if (next.length > 0) {
    groups.push({
      type: 'next',
      steps: next.map((m) => ({ messageId: m.id, state: m.state === 'RETRY' ? 'STEP_RETRY' : 'STEP_PROGRESS', retries: m.maxRetries, ...(m.retryDelay ? { retryDelay: m.retryDelay } : {}) })),
    });
  }
  return {
    workflowRunId: run.runId,
    workflowUrl: run.url,
    workflowState: run.state,
    workflowRunCreatedAt: run.createdAt,
    ...(run.completedAt === undefined ? {} : { workflowRunCompletedAt: run.completedAt }),
    ...(run.response === undefined ? {} : { workflowRunResponse: run.response }),
    ...(run.dlqId === undefined ? {} : { dlqId: run.dlqId }),
    ...(run.failure ? { failureFunction: run.failure } : {}),
    ...(run.labels.length > 0 ? { label: run.labels[0], labels: run.labels } : {}),
    steps: groups,
  };
}

export async function pendingRunMessages(db: Queryable, runId: string): Promise<StoredMessage[]> {
  return (await db.query(`SELECT * FROM qstash.messages WHERE workflow ->> 'runId' = $1 ORDER BY seq`, [runId])).map(rowToMessage);
}
